"""Logs: at INFO, as ``cubby`` runs by default, and at DEBUG, no log line may contain memory text.

Every other check of the run already logs through :class:`bench.assurance.report.LogWatch`. This one
adds the paths that log the most - the error paths - with canary-bearing input: each adapter is
driven while its platform refuses to deliver replies (Slack API errors, Discord DMs closed) and then
after the memory store went away under it. Then the same again with the root logger at DEBUG (every
app built after the level is set, as ``CUBBY_LOG_LEVEL=DEBUG`` would), with an LLM that fails with
5xx and 4xx; and, at both levels, the Slack paths fuzzing does not take (bad signatures, OAuth, Socket
Mode; :mod:`bench.assurance.slack_modes`). The figure counts every log line of the whole run:
in-process records, the log file written in the run dir, and the stderr of child processes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.assurance.badinput import Driver, available_drivers
from bench.assurance.fuzz import FuzzInputs
from bench.assurance.report import CANARY, Figure, LogWatch
from core import Settings, open_hub

INPUTS_PER_PHASE = 12
REPLY_TIMEOUT = 20.0
REJECTION = "Slack signature did not verify"


class CountRejections(logging.Handler):
    """Counts the log lines that report a refused Slack request (the fact, which must be logged)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += REJECTION in record.getMessage()


@contextmanager
def logging_at(level: int, watch: LogWatch, log_file: Path) -> Iterator[None]:
    """The root logger, the watch and the run's log file at ``level`` for a while."""
    root = logging.getLogger()
    handlers = [watch] + [
        h for h in root.handlers if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == log_file
    ]
    before = [root.level, *(handler.level for handler in handlers)]
    for item in (root, *handlers):
        item.setLevel(level)
    try:
        yield
    finally:
        for item, previous in zip((root, *handlers), before, strict=True):
            item.setLevel(previous)


def _failing_llm(settings: Settings, seed: int) -> tuple[Settings, Any]:
    """``settings`` with an LLM that first fails (5xx, then 4xx) and extracts canary facts; and the
    server, to close. Without the test suite's fake (an installed Cubby), ``settings`` as they are."""
    if importlib.util.find_spec("tests.loopback.openai_server") is None:
        return settings, None
    from tests.loopback.openai_server import FakeOpenAI, extracted, failure

    server = FakeOpenAI()
    inputs = FuzzInputs(seed, limit=settings.max_memory_chars)
    server.script("chat", failure(500), failure(500), failure(503), failure(400))
    server.script("extraction", extracted(inputs.sentence()), failure(500), failure(500), failure(400))
    update = {"openai_api_key": SecretStr("sk-assurance"), "openai_base_url": server.url}
    return settings.model_copy(update=update | {"llm_timeout_seconds": 5.0, "llm_max_retries": 1}), server


async def _slack_modes(settings: Settings, adapters: list[str], seed: int, count: int) -> dict[str, int]:
    needed = ("slack_bolt", "tests.loopback.slack_harness")
    if "slack" not in adapters or any(importlib.util.find_spec(name) is None for name in needed):
        return {}
    from bench.assurance.slack_modes import exercise_slack_modes

    return await exercise_slack_modes(settings, settings.data_dir / "slack-modes", seed, count)


async def _drive(driver: Driver, inputs: FuzzInputs, index: int, count: int) -> int:
    """Send ``count`` inputs to every command; the number that got no answer (expected here)."""
    unanswered = 0
    for command in driver.commands:
        person, _ = driver.person(command, index)
        for _ in range(count):
            try:
                await asyncio.wait_for(driver.send(person, command, inputs.sentence(), inputs), REPLY_TIMEOUT)
            except Exception:  # a platform that refuses replies can leave an input unanswered
                unanswered += 1
    return unanswered


async def exercise_failure_paths(
    settings: Settings, adapters: list[str], seed: int, count: int
) -> dict[str, int]:
    """Each adapter: normal use, then with its platform failing, then with the store gone."""
    drivers, _ = available_drivers(adapters)
    unanswered: dict[str, int] = {}
    for number, driver in enumerate(drivers):
        inputs = FuzzInputs(seed + number, limit=settings.max_memory_chars)
        async with open_hub(
            settings=settings.model_copy(update={"data_dir": settings.data_dir / driver.name})
        ) as hub:
            await driver.start(hub, settings)
            try:
                missed = await _drive(driver, inputs, 900, count)
                driver.fail_platform()
                missed += await _drive(driver, inputs, 901, count)
                await hub.close()  # the store goes away under the running bot
                missed += await _drive(driver, inputs, 902, count)
            finally:
                await driver.stop()
        unanswered[driver.name] = missed
    return unanswered


def _log_file_canaries(log_file: Path) -> int:
    return len(CANARY.findall(log_file.read_bytes().decode("utf-8", "replace"))) if log_file.exists() else 0


async def check_logs(
    settings: Settings,
    watch: LogWatch,
    log_file: Path,
    *,
    adapters: list[str],
    seed: int,
    inputs_per_phase: int = INPUTS_PER_PHASE,
) -> Figure:
    started = time.perf_counter()
    rejections = CountRejections()
    logging.getLogger().addHandler(rejections)
    try:
        unanswered = await exercise_failure_paths(settings, adapters, seed, inputs_per_phase)
        refused = {"INFO": await _slack_modes(settings, adapters, seed + 1, max(1, inputs_per_phase // 4))}
        lines_before_debug = watch.lines
        debug_settings, llm = _failing_llm(
            settings.model_copy(update={"data_dir": settings.data_dir / "debug"}), seed
        )
        try:
            with logging_at(logging.DEBUG, watch, log_file):
                unanswered_at_debug = await exercise_failure_paths(
                    debug_settings, adapters, seed + 2, inputs_per_phase
                )
                refused["DEBUG"] = await _slack_modes(
                    debug_settings, adapters, seed + 3, max(1, inputs_per_phase // 4)
                )
        finally:
            if llm is not None:
                llm.close()
    finally:
        logging.getLogger().removeHandler(rejections)
    lines_at_debug = watch.lines - lines_before_debug
    refused_total = sum(n for by_mode in refused.values() for n in by_mode.values())
    in_file = _log_file_canaries(log_file)
    leaked = watch.leaked_lines
    warnings = sum(n for level, n in watch.by_level.items() if level in ("WARNING", "ERROR", "CRITICAL"))
    return Figure(
        guarantee="logs",
        volume=f"{watch.lines:,} log lines",
        mix=(
            f"root at INFO, then DEBUG ({lines_at_debug:,} lines) with a failing LLM; whole run + failure "
            f"paths of {', '.join(unanswered) or 'no adapter'}; {refused_total} bad signatures refused "
            f"and logged as facts; {warnings:,} at WARNING+"
        ),
        result=f"lines with memory text: {leaked}  canaries in the log file: {in_file}",
        passed=leaked == 0 and in_file == 0 and watch.lines > 0 and rejections.count == refused_total,
        data={
            "lines": watch.lines,
            "by_level": dict(watch.by_level),
            "lines_with_memory_text_by_logger": dict(watch.leaks),
            "child_process_lines_with_memory_text": dict(watch.external_leaks),
            "canaries_in_log_file": in_file,
            "log_file": log_file.name,
            "failure_path_inputs_unanswered": unanswered,
            "failure_path_inputs_unanswered_at_debug": unanswered_at_debug,
            "lines_at_debug": lines_at_debug,
            "llm_failing_at_debug": llm is not None,
            "bad_signatures_refused_by_level_and_mode": refused,
            "refusals_logged_as_facts": rejections.count,
        },
        seconds=round(time.perf_counter() - started, 1),
    )

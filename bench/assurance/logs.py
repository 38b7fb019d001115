"""Logs: with logging at INFO (DEBUG off), as ``cubby`` runs, no log line may contain memory text.

Every other check of the run already logs through :class:`bench.assurance.report.LogWatch`. This one
adds the paths that log the most - the error paths - with canary-bearing input: each adapter is
driven while its platform refuses to deliver replies (Slack API errors, Discord DMs closed) and then
after the memory store went away under it. The figure counts every log line of the whole run:
in-process records, the log file written in the run dir, and the stderr of child processes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.assurance.badinput import Driver, available_drivers
from bench.assurance.fuzz import FuzzInputs
from bench.assurance.report import CANARY, Figure, LogWatch
from core import Settings, open_hub

INPUTS_PER_PHASE = 12
REPLY_TIMEOUT = 20.0


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
    unanswered = await exercise_failure_paths(settings, adapters, seed, inputs_per_phase)
    in_file = _log_file_canaries(log_file)
    leaked = watch.leaked_lines
    warnings = sum(n for level, n in watch.by_level.items() if level in ("WARNING", "ERROR", "CRITICAL"))
    return Figure(
        guarantee="logs",
        volume=f"{watch.lines:,} log lines",
        mix=(
            f"root at INFO, DEBUG off; whole run + failure paths of "
            f"{', '.join(unanswered) or 'no adapter'}; {warnings:,} at WARNING+"
        ),
        result=f"lines with memory text: {leaked}  canaries in the log file: {in_file}",
        passed=leaked == 0 and in_file == 0 and watch.lines > 0,
        data={
            "lines": watch.lines,
            "by_level": dict(watch.by_level),
            "lines_with_memory_text_by_logger": dict(watch.leaks),
            "child_process_lines_with_memory_text": dict(watch.external_leaks),
            "canaries_in_log_file": in_file,
            "log_file": log_file.name,
            "failure_path_inputs_unanswered": unanswered,
        },
        seconds=round(time.perf_counter() - started, 1),
    )

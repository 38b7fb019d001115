"""Bad input: fuzzed inputs to every command of every adapter present, each judged by
:func:`bench.assurance.judge.judge`.

Every command gets its own people, so a person's memories change only by that command's inputs and
every change can be attributed. People who are not remembering start with a few memories (so recall,
forget and export have something to work on); a bystander's memory ids are mixed into the inputs, and
the bystander must end exactly as they started.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import random
import time
from collections import Counter
from typing import Any, Protocol

from bench.assurance.fuzz import Fuzz, FuzzInputs, valid_memory
from bench.assurance.judge import Answer, Snapshot, Tally, judge
from bench.assurance.population import SHARED_TEXTS
from bench.assurance.report import Figure, canary
from core import Hub, ScopedMemory, Settings, Source, UserKey

LANES = 4  # people fuzzed at once per command
INPUTS_PER_PERSON = 250
SEEDED_MEMORIES = 6


class Driver(Protocol):
    """One chat adapter, driven the way its platform drives it."""

    name: str
    commands: tuple[str, ...]

    async def start(self, hub: Hub, settings: Settings) -> None: ...
    def person(self, command: str, index: int) -> tuple[Any, UserKey]: ...
    async def send(self, person: Any, command: str, fuzz: Fuzz, inputs: FuzzInputs) -> Answer: ...
    def received(self, command: str, fuzz: Fuzz) -> str: ...
    def fail_platform(self) -> None: ...
    async def stop(self) -> None: ...


class ErrorLines(logging.Handler):
    """Counts ERROR records while an adapter is fuzzed: an error Cubby logged is a crash it caught."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.by_logger: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.by_logger[record.name] += 1


def available_drivers(wanted: list[str]) -> tuple[list[Driver], dict[str, str]]:
    """The adapters present here: their package, their platform library and - for Slack and Discord -
    the test suite's fakes and harness (run from the repository root) importable."""
    drivers: list[Driver] = []
    skipped: dict[str, str] = {}
    needs = {
        "terminal": ("bots.terminal",),
        "slack": ("bots.slack", "slack_bolt", "tests.loopback.slack_harness"),
        "discord": ("bots.discord", "discord", "tests.loopback.discord_harness"),
    }
    for name in wanted:
        missing = [module for module in needs[name] if importlib.util.find_spec(module) is None]
        if missing:
            skipped[name] = f"{missing[0]} is not installed"
            continue
        if name == "terminal":
            from bench.assurance.terminal import TerminalDriver

            drivers.append(TerminalDriver())
        elif name == "slack":
            from bench.assurance.slack import SlackDriver

            drivers.append(SlackDriver())
        else:
            from bench.assurance.discord import DiscordDriver

            drivers.append(DiscordDriver())
    return drivers, skipped


async def snapshot(memory: ScopedMemory) -> Snapshot:
    return {record.id: record.text for record in await memory.get_all()}


async def _seed(memory: ScopedMemory, seed: int) -> list[str]:
    """A few memories, each with a canary no one else holds (so a leak shows in any reply)."""
    rng = random.Random(f"{memory.key}/{seed}")
    ids = []
    for text in rng.sample(SHARED_TEXTS, SEEDED_MEMORIES):
        ids += [r.id for r in await memory.add(f"{text} {canary(rng)}", source=Source("cli", "seed"))]
    return ids


async def _fuzz_person(
    hub: Hub, driver: Driver, command: str, index: int, inputs: FuzzInputs, count: int, tally: Tally
) -> None:
    person, key = driver.person(command, index)
    memory = hub.scoped(key)
    remember = command.endswith("remember")
    if not remember:
        await _seed(memory, 0)
    for _ in range(count):
        fuzz = inputs.next()
        before = await snapshot(memory)
        answer: Answer | None = None
        error = None
        try:
            answer = await driver.send(person, command, fuzz, inputs)
        except Exception as failure:  # a crash is what this check counts
            error = type(failure).__name__
        after = await snapshot(memory)
        received = answer.received if answer else driver.received(command, fuzz)
        valid = valid_memory(received, hub.settings.max_memory_chars)
        judge(
            tally,
            fuzz=fuzz,
            answer=answer,
            error=error,
            before=before,
            after=after,
            remember=remember,
            valid=valid,
        )


async def _fuzz_lane(
    hub: Hub,
    driver: Driver,
    command: str,
    lane: int,
    count: int,
    seed: int,
    foreign_ids: list[str],
    tally: Tally,
) -> None:
    """``count`` inputs, a fresh person every :data:`INPUTS_PER_PERSON` (so listings stay short)."""
    inputs = FuzzInputs(seed, limit=hub.settings.max_memory_chars, foreign_ids=foreign_ids)
    for start in range(0, count, INPUTS_PER_PERSON):
        index = lane * 1000 + start // INPUTS_PER_PERSON
        await _fuzz_person(hub, driver, command, index, inputs, min(INPUTS_PER_PERSON, count - start), tally)


async def fuzz_driver(hub: Hub, driver: Driver, per_command: int, seed: int) -> dict[str, Tally]:
    bystander = hub.scoped(driver.person("bystander", 0)[1])
    foreign_ids = await _seed(bystander, seed)
    held = await snapshot(bystander)
    tallies = {command: Tally() for command in driver.commands}
    work = []
    for number, command in enumerate(driver.commands):
        for lane in range(LANES):
            count = per_command // LANES + (lane < per_command % LANES)
            lane_seed = seed * 1_000_003 + number * 1009 + lane
            work.append(
                _fuzz_lane(hub, driver, command, lane, count, lane_seed, foreign_ids, tallies[command])
            )
    await asyncio.gather(*work)
    if await snapshot(bystander) != held:
        tallies[driver.commands[0]].partial_writes += 1
    return tallies


async def check_bad_input(
    hub: Hub, settings: Settings, *, per_command: int, seed: int, adapters: list[str]
) -> Figure:
    started = time.perf_counter()
    drivers, skipped = available_drivers(adapters)
    results: dict[str, dict[str, Tally]] = {}
    errors_logged: dict[str, dict[str, int]] = {}
    for number, driver in enumerate(drivers):
        watch = ErrorLines()
        logging.getLogger().addHandler(watch)
        await driver.start(hub, settings)
        try:
            results[driver.name] = await fuzz_driver(hub, driver, per_command, seed + 100_003 * number)
        finally:
            await driver.stop()
            logging.getLogger().removeHandler(watch)
        errors_logged[driver.name] = dict(watch.by_logger)
    total = Tally()
    for tallies in results.values():
        for tally in tallies.values():
            total.merge(tally)
    error_lines = sum(sum(counts.values()) for counts in errors_logged.values())
    crashes = sum(total.crashes.values()) + error_lines
    unclear = total.inputs - total.clear
    problems = (
        total.partial_writes,
        total.valid_refused,
        total.injections,
        total.not_private,
        total.foreign_text,
    )
    commands = sum(len(t) for t in results.values())
    return Figure(
        guarantee="bad input",
        volume=f"{total.inputs:,} inputs",
        mix=(
            f"{commands} commands of {', '.join(results)}; {per_command:,} each; "
            f"{len(total.distinct):,} distinct"
        ),
        result=(
            f"crashes: {crashes}  partial writes: {total.partial_writes}  unanswered or unclear: {unclear}  "
            f"injections: {total.injections}  not private: {total.not_private}"
        ),
        passed=crashes == 0 and unclear == 0 and not any(problems) and total.inputs > 0,
        data={
            "per_command": per_command,
            "seed": seed,
            "total": total.to_dict(),
            "error_log_lines": errors_logged,
            "by_command": {
                f"{a} {c}": t.to_dict() for a, tallies in results.items() for c, t in tallies.items()
            },
            "adapters_skipped": skipped,
        },
        seconds=round(time.perf_counter() - started, 1),
    )


def breakdown(figure: Figure) -> list[str]:
    """One indented line per command, for the printed report."""
    lines = []
    for name, counts in figure.data.get("by_command", {}).items():
        lines.append(
            f"    {name:<22} {counts['inputs']:>7,} inputs  answered {counts['answered']:,}  "
            f"refused {counts['refused_with_reason']:,}  stored {counts['stored']:,}  "
            f"crashes {counts['crashes']}  partial writes {counts['partial_writes']}"
        )
    for name, reason in figure.data.get("adapters_skipped", {}).items():
        lines.append(f"    {name}: skipped ({reason})")
    return lines

"""Concurrency: many simulated people at once, each running a random mix of operations through the
core's commands on one hub - as the bots do - while every answer is checked against what that
person holds. Optionally, operator commands (``cubby memories export|forget``) run in other processes
on the same data dir meanwhile, on people the load does not touch.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

from bench.assurance.population import SHARED_TEXTS, TOPIC_QUERIES
from bench.assurance.report import Figure, LogWatch, canary, percent_mix
from core import ScopedMemory, Settings, Source, UserKey, commands, open_hub

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = {
    "remember": 30,
    "recall by words": 20,
    "recall a page": 10,
    "plan a forget": 8,
    "forget one": 8,
    "foreign id": 8,
    "export": 5,
    "count": 9,
    "forget everything": 2,
}


def session_key(index: int) -> UserKey:
    if index % 3 == 0:
        return UserKey.slack(f"T{index % 7}", f"U{index:05d}")
    if index % 3 == 1:
        return UserKey.discord(81234567890123456 + index)
    return UserKey.cli(f"person-{index}")


class Session:
    """One simulated person. ``mine`` is what they hold, by id; every answer is checked against it."""

    def __init__(
        self, memory: ScopedMemory, rng: random.Random, stats: Counter[str], foreign_ids: list[str]
    ) -> None:
        self.memory = memory
        self.rng = rng
        self.stats = stats
        self.foreign_ids = foreign_ids
        self.mine: dict[str, str] = {}

    def foreign(self, ids_and_texts: list[tuple[str, str]]) -> None:
        for memory_id, text in ids_and_texts:
            if self.mine.get(memory_id) != text:
                self.stats["foreign results"] += 1

    async def step(self) -> None:
        operation = self.rng.choices(list(OPERATIONS), list(OPERATIONS.values()))[0]
        if (operation == "forget one" and not self.mine) or (
            operation == "foreign id" and not self.foreign_ids
        ):
            operation = "remember"  # nothing to forget or probe yet
        self.stats[operation] += 1
        memory, rng = self.memory, self.rng
        if operation == "remember":
            for record in await commands.remember(
                memory, f"{rng.choice(SHARED_TEXTS)} {canary(rng)}", Source("cli")
            ):
                self.mine[record.id] = record.text
                self.foreign_ids.append(record.id)
        elif operation == "recall by words":
            found = await commands.recall(memory, rng.choice(TOPIC_QUERIES + SHARED_TEXTS))
            self.foreign([(r.id, r.text) for r in found.records])
        elif operation == "recall a page":
            found = await commands.recall(memory, None, page=rng.randint(1, 3), page_size=5)
            self.foreign([(r.id, r.text) for r in found.records])
            if found.total != len(self.mine):
                self.stats["wrong totals"] += 1
        elif operation == "plan a forget":
            own_id = rng.choice(sorted(self.mine)) if self.mine else None
            plan = await commands.plan_forget(memory, rng.choice([None, rng.choice(TOPIC_QUERIES), own_id]))
            self.foreign([(r.id, r.text) for r in plan.records])
        elif operation == "forget one":
            victim = rng.choice(sorted(self.mine))
            if not await commands.forget_one(memory, victim):
                self.stats["own forget refused"] += 1
            del self.mine[victim]
        elif operation == "foreign id":
            memory_id = rng.choice(self.foreign_ids)
            if memory_id not in self.mine:
                record = await memory.get(memory_id)
                self.foreign([(record.id, record.text)] if record else [])
                self.stats["foreign results"] += await commands.forget_one(memory, memory_id)
        elif operation == "export":
            exported = json.loads((await commands.export(memory)).content)
            self.foreign([(m["id"], m["text"]) for m in exported["memories"]])
        elif operation == "count":
            if await memory.count() != len(self.mine):
                self.stats["wrong totals"] += 1
        elif operation == "forget everything":
            if await commands.forget_everything(memory) != len(self.mine):
                self.stats["wrong totals"] += 1
            self.mine.clear()

    async def run(self, operations: int) -> None:
        for _ in range(operations):
            try:
                await self.step()
            except Exception as error:  # counted: an error under load is the finding
                self.stats[f"error {type(error).__name__}"] += 1
        held = {r.id: r.text for r in await self.memory.get_all()}
        self.stats["people whose memories ended wrong"] += held != self.mine


async def _operator(args: list[str], settings: Settings, watch: LogWatch | None) -> tuple[int, str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "CUBBY_DATA_DIR": str(settings.data_dir)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", "memories", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=settings.data_dir.parent, env=environment,
    )  # fmt: skip
    out, err = await child.communicate()
    if watch is not None:
        watch.scan_output("operator command stderr", err.decode(errors="replace"))
    return child.returncode or 0, out.decode()


async def _operator_requests(
    settings: Settings, people: list[ScopedMemory], held: list[dict[str, str]], watch: LogWatch | None
) -> Counter[str]:
    """Export then erase each of ``people`` from another process while the load runs."""
    outcome: Counter[str] = Counter()
    for memory, texts in zip(people, held, strict=True):
        code, out = await _operator(["export", "--user", str(memory.key)], settings, watch)
        document = json.loads(out) if code == 0 else {}
        exported = {m["id"]: m["text"] for m in document.get("memories", [])}
        outcome["operator exports correct"] += exported == texts and document.get("user") == str(memory.key)
        code, _ = await _operator(["forget", "--user", str(memory.key), "--yes"], settings, watch)
        outcome["operator forgets correct"] += code == 0 and await memory.count() == 0
    return outcome


async def check_concurrency(
    settings: Settings,
    *,
    people: int,
    operations: int,
    operator_people: int,
    seed: int,
    watch: LogWatch | None = None,
) -> Figure:
    started = time.perf_counter()
    rng = random.Random(seed)
    stats: Counter[str] = Counter()
    foreign_ids: list[str] = []
    async with open_hub(settings=settings) as hub:
        targets = [hub.scoped(UserKey.cli(f"operator-target-{i}")) for i in range(operator_people)]
        held = []
        for target in targets:
            records = [
                r for text in rng.sample(SHARED_TEXTS, 3) for r in await target.add(f"{text} {canary(rng)}")
            ]
            held.append({r.id: r.text for r in records})
        sessions = [
            Session(hub.scoped(session_key(i)), random.Random(rng.random()), stats, foreign_ids)
            for i in range(people)
        ]
        load = asyncio.gather(*(session.run(operations) for session in sessions))
        operator, _ = await asyncio.gather(_operator_requests(settings, targets, held, watch), load)
    errors = sum(n for name, n in stats.items() if name.startswith("error"))
    wrong = stats["wrong totals"] + stats["own forget refused"] + stats["people whose memories ended wrong"]
    operator_ok = (
        operator["operator exports correct"] + operator["operator forgets correct"] == 2 * operator_people
    )
    mix = {name: stats[name] for name in OPERATIONS}
    return Figure(
        guarantee="concurrency",
        volume=f"{people} people x {operations} ops",
        mix=percent_mix(mix)
        + (f"; {operator_people} operator export+forget runs alongside" if operator_people else ""),
        result=f"errors: {errors}  foreign results: {stats['foreign results']}  wrong answers: {wrong}",
        passed=errors == 0 and stats["foreign results"] == 0 and wrong == 0 and operator_ok,
        data={
            "people": people,
            "operations_each": operations,
            "seed": seed,
            "mix": mix,
            "errors": {name: n for name, n in stats.items() if name.startswith("error")},
            "foreign_results": stats["foreign results"],
            "wrong_totals": stats["wrong totals"],
            "own_forget_refused": stats["own forget refused"],
            "people_whose_memories_ended_wrong": stats["people whose memories ended wrong"],
            "operator": dict(operator) | {"people": operator_people},
        },
        seconds=round(time.perf_counter() - started, 1),
    )

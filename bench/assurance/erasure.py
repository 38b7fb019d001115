"""Erasure: people with unique canary strings, half of them forgotten, then every byte of every file
in the data dir (database, WAL, shared memory, mem0's files) and of the run's log file is scanned.

Forgotten people are erased the ways Cubby offers: ``/forget`` everything, ``/forget`` one
memory at a time, the operator command ``cubby memories forget --user KEY --yes`` run while the
hub is open (as it would be while the bots run), an edit of every memory (the old text with its
canary must be gone, the new text stays), and expiry (memories made to expire, then the sweeper).
The scan runs with the hub still open and again after it closed; the scanner must also find the
canaries of the people who were kept, or it would prove nothing.
"""

from __future__ import annotations

import contextlib
import io
import random
import time
from datetime import timedelta
from pathlib import Path

from bench.assurance.keys import confusable_keys
from bench.assurance.population import SHARED_TEXTS
from bench.assurance.report import CANARY, Figure, canary
from bots.operator import forget_memories
from core import ScopedMemory, Settings, Source, UserKey, commands, open_hub
from core.memory import sweeper
from core.records import utc_now

WAYS = ("forget everything", "forget one by one", "operator command", "edit", "expiry")
#: How many memories a person keeps after each way (an edit keeps them, with new text).
KEEPS = {"edit": True}


def canaries_on_disk(paths: list[Path]) -> dict[str, list[str]]:
    """Every canary token in the bytes of ``paths`` -> the names of the files that hold it."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for token in set(CANARY.findall(path.read_bytes().decode("latin-1"))):
            found.setdefault(token, []).append(path.name)
    return found


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


async def _forget(way: str, memory: ScopedMemory, settings: Settings) -> None:
    if way == "forget everything":
        await commands.forget_everything(memory)
    elif way == "forget one by one":
        for record in await memory.get_all():
            await commands.forget_one(memory, record.id)
    elif way == "edit":
        for record in await memory.get_all():
            await commands.edit(
                memory, record.id, record.text.partition(", secret ")[0] + ", secret redacted"
            )
    elif way == "expiry":
        pass  # their memories were made to expire; the sweep below erases them
    else:
        with contextlib.redirect_stderr(io.StringIO()):  # it reports to the operator on stderr
            await forget_memories(settings, str(memory.key), assume_yes=True)


async def check_erasure(
    settings: Settings, log_file: Path, *, people: int, memories_each: int, seed: int
) -> Figure:
    started = time.perf_counter()
    rng = random.Random(seed)
    held: dict[str, list[str]] = {}  # key -> its canaries
    scans: dict[str, dict[str, list[str]]] = {}
    ways: dict[str, str] = {}
    async with open_hub(settings=settings) as hub:
        memories = {key: hub.scoped(UserKey.parse(key)) for key in confusable_keys(people)}
        forgotten = set(rng.sample(sorted(memories), people // 2))
        operator_runs = 0
        for index, key in enumerate(sorted(forgotten)):
            way = WAYS[index % len(WAYS)]
            if way == "operator command" and operator_runs >= 8:
                way = WAYS[0]  # each run opens a second hub; a few are enough to show it is safe
            operator_runs += way == "operator command"
            ways[key] = way
        soon = utc_now() + timedelta(hours=1)
        for key, memory in memories.items():
            held[key] = [canary(rng) for _ in range(memories_each)]
            expires = soon if ways.get(key) == "expiry" else None
            for token in held[key]:
                text = f"{rng.choice(SHARED_TEXTS)}, secret {token}"
                await memory.add(text, source=Source("cli", "erasure"), expires_at=expires)
            await memory.search(f"what is my secret {held[key][0]}")  # a query that quotes it, too
        for key in sorted(forgotten):
            await _forget(ways[key], memories[key], settings)
        await sweeper.sweep_expired(hub, soon + timedelta(seconds=1))
        open_files = [*files_under(settings.data_dir), log_file]
        scans["hub open"] = canaries_on_disk(open_files)
        kept = [key for key in memories if key not in forgotten]
        intact = 0
        for key in kept:
            texts = sorted(CANARY.findall(" ".join(r.text for r in await memories[key].get_all())))
            intact += texts == sorted(held[key])
        emptied = 0
        for key in forgotten:
            expected = memories_each if KEEPS.get(ways[key]) else 0
            emptied += await memories[key].count() == expected
    closed_files = [*files_under(settings.data_dir), log_file]
    scans["hub closed"] = canaries_on_disk(closed_files)
    files = sorted(set(open_files) | set(closed_files))

    def left(scan: dict[str, list[str]], keys: list[str] | set[str]) -> int:
        return sum(token in scan for key in keys for token in held[key])

    leftovers = max(left(scan, forgotten) for scan in scans.values())
    seen_kept = min(left(scan, kept) for scan in scans.values())
    total_kept = len(kept) * memories_each
    passed = leftovers == 0 and intact == len(kept) and emptied == len(forgotten) and seen_kept == total_kept
    names = sorted({p.relative_to(settings.data_dir.parent).as_posix() for p in files})
    return Figure(
        guarantee="erasure",
        volume=f"{people} people, {people * memories_each:,} canaries",
        mix=f"{len(forgotten)} forgotten: "
        + ", ".join(f"{sum(w == way for w in ways.values())} {way}" for way in WAYS),
        result=(
            f"canaries of the forgotten left: {leftovers} in {len(files)} files  "
            f"others intact: {intact}/{len(kept)}  (scan found {seen_kept}/{total_kept} kept canaries)"
        ),
        passed=passed,
        data={
            "people": people,
            "memories_each": memories_each,
            "forgotten": len(forgotten),
            "ways": {way: sum(w == way for w in ways.values()) for way in WAYS},
            "files_scanned": names,
            "forgotten_canaries_left": {name: left(scan, forgotten) for name, scan in scans.items()},
            "forgotten_people_emptied": emptied,
            "kept_people_intact": intact,
            "kept_canaries_found_by_scan": seen_kept,
            "kept_canaries": total_kept,
        },
        seconds=round(time.perf_counter() - started, 1),
    )

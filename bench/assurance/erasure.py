"""Erasure: people with unique canary strings, half of them forgotten, then every byte of every file
in the data dir (database, WAL, shared memory, key store, mem0's files) and of the run's log file is
scanned, and a backup of the data dir taken before the forgets is restored with the key store as it
is after them.

A forget of everything destroys the person's key, so that backup yields none of their memories. A
forget of one memory deletes its row but not the key (the person's other memories still need it), so
a backup from before still holds that memory until the backup expires; the figure counts that
separately, as what backup retention must cover.

Forgotten people are erased the ways Cubby offers: ``/forget`` everything, ``/forget`` one
memory at a time, the operator command ``cubby memories forget --user KEY --yes`` run while the
hub is open (as it would be while the bots run), an edit of every memory (the old text, with its
canary, must be gone; the new text stays) and expiry (memories made to expire, then the sweeper).
The scan runs with the hub still open and again after it closed. Rows are sealed with per-person
keys, so the scan must find no canary in clear at all, the kept people's included
(``tests/test_assurance.py`` shows the scanner finds one where there is one). The backup still holds
the forgotten people's rows; restored, it must yield none of them and every kept memory.
"""

from __future__ import annotations

import contextlib
import io
import random
import shutil
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from bench.assurance.keys import confusable_keys
from bench.assurance.population import SHARED_TEXTS
from bench.assurance.report import CANARY, Figure, canary
from bots.operator import forget_memories
from core import ScopedMemory, Settings, Source, UserKey, commands, open_hub, sweeper
from core.records import utc_now

WAYS = ("forget everything", "forget one by one", "operator command", "edit", "expiry")
#: The ways that erase memory by memory, under a key the person keeps: a backup from before them
#: still opens (reported, as for forgetting one by one).
ONE_BY_ONE = ("forget one by one", "edit", "expiry")


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
        pass  # made to expire when they were added; the sweep after the forgets erases them
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
        backup = settings.data_dir.with_name(settings.data_dir.name + "-backup")
        shutil.rmtree(backup, ignore_errors=True)
        shutil.copytree(settings.data_dir, backup)
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
        emptied = 0  # forgotten people left with nothing of theirs (edited ones: only the new texts)
        for key in forgotten:
            left_texts = [r.text for r in await memories[key].get_all()]
            expected = memories_each if ways[key] == "edit" else 0
            emptied += len(left_texts) == expected and not CANARY.findall(" ".join(left_texts))
    closed_files = [*files_under(settings.data_dir), log_file]
    scans["hub closed"] = canaries_on_disk(closed_files)
    files = sorted(set(open_files) | set(closed_files))
    by_key = {key for key in forgotten if ways[key] not in ONE_BY_ONE}
    restored = await _restored_backup(backup, settings, memories, held, forgotten, by_key)
    shutil.rmtree(backup, ignore_errors=True)

    def left(scan: dict[str, list[str]], keys: list[str] | set[str]) -> int:
        return sum(token in scan for key in keys for token in held[key])

    leftovers = max(left(scan, forgotten) for scan in scans.values())
    seen_kept = max(left(scan, kept) for scan in scans.values())
    total_kept = len(kept) * memories_each
    passed = (
        leftovers == 0
        and intact == len(kept)
        and emptied == len(forgotten)
        and seen_kept == 0
        and restored["forgotten_readable"] == 0
        and restored["kept_intact"] == len(kept)
        and restored["forgotten_rows_in_backup"] > 0
    )
    names = sorted({p.relative_to(settings.data_dir.parent).as_posix() for p in files})
    return Figure(
        guarantee="erasure",
        volume=f"{people} people, {people * memories_each:,} canaries",
        mix=f"{len(forgotten)} forgotten: "
        + ", ".join(f"{sum(w == way for w in ways.values())} {way}" for way in WAYS),
        result=(
            f"canaries of the forgotten left: {leftovers} in {len(files)} files, "
            f"{restored['forgotten_readable']} readable in a backup from before "
            f"({restored['deleted_one_by_one_readable']} erased one by one, edited or expired, key kept)  "
            f"others intact: {intact}/{len(kept)} (restored: {restored['kept_intact']}/{len(kept)})  "
            f"canaries in clear on disk: {seen_kept}/{total_kept + len(forgotten) * memories_each}"
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
            "kept_canaries_in_clear": seen_kept,
            "kept_canaries": total_kept,
            "backup_restored_with_current_keys": restored,
        },
        seconds=round(time.perf_counter() - started, 1),
    )


async def _restored_backup(
    backup: Path,
    settings: Settings,
    memories: dict[str, ScopedMemory],
    held: dict[str, list[str]],
    forgotten: set[str],
    by_key: set[str],
) -> dict[str, int]:
    """Open ``backup`` (a copy of the data dir from before the forgets) with the key store as it is
    now: what it still holds (sealed rows) and what it yields."""
    for name in ("keys.sqlite3", "keys.sqlite3-wal", "keys.sqlite3-shm"):
        (backup / name).unlink(missing_ok=True)
        if (settings.data_dir / name).exists():
            shutil.copy2(settings.data_dir / name, backup / name)
    with sqlite3.connect(backup / "memories.sqlite3") as db:
        rows = dict(db.execute("SELECT user_id, count(*) FROM sealed_memories GROUP BY user_id").fetchall())
    readable = readable_one_by_one = intact = 0
    async with open_hub(settings=settings.model_copy(update={"data_dir": backup})) as hub:
        for key in memories:
            records = await hub.scoped(UserKey.parse(key)).get_all()
            if key in by_key:
                readable += len(records)
            elif key in forgotten:
                readable_one_by_one += len(records)
            else:
                intact += sorted(CANARY.findall(" ".join(r.text for r in records))) == sorted(held[key])
    return {
        "forgotten_rows_in_backup": sum(rows.get(key, 0) for key in by_key),
        "forgotten_readable": readable,
        "deleted_one_by_one_readable": readable_one_by_one,
        "kept_intact": intact,
    }

"""Durability: a child process (:mod:`bench.assurance.writer`) acknowledges writes while it is killed
with SIGKILL at random moments, round after round, on the same data dir. Then the store is reopened:
every acknowledged add must be there with its text, every acknowledged delete must stay deleted, and
SQLite's ``PRAGMA integrity_check`` must say ``ok`` (checked after every kill, too).

One round in five is killed at a random moment of its start-up (imports, model load, opening the
store) rather than while it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.assurance.report import Figure, LogWatch
from bench.assurance.writer import writer_key, written_text
from core import load_settings, open_hub
from core.memory.stores.sqlite import connect

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "memories.sqlite3"
READY_TIMEOUT = 120.0


@dataclass
class Acks:
    added: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # id -> (round, lane, n)
    deleting: set[str] = field(default_factory=set)  # deletes sent; acknowledged or not
    deleted: set[str] = field(default_factory=set)
    rounds_killed_in_startup: int = 0
    rounds_failed_to_start: int = 0
    integrity_failures: int = 0


def integrity(database: Path) -> str:
    connection = connect(database)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


async def _read_acks(stream: asyncio.StreamReader, round_: int, acks: Acks, ready: asyncio.Event) -> None:
    while line := await stream.readline():
        if not line.endswith(b"\n"):
            return  # cut off by the kill: not an acknowledgement
        word, *rest = line.decode().split()
        if word == "ready":
            ready.set()
        elif word == "added":
            acks.added[rest[0]] = (round_, int(rest[1]), int(rest[2]))
        elif word == "deleting":
            acks.deleting.add(rest[0])
        elif word == "deleted":
            acks.deleted.add(rest[0])


async def _round(
    data_dir: Path, round_: int, seed: int, rng: random.Random, acks: Acks, watch: LogWatch | None
) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.assurance.writer", str(data_dir), str(round_), str(seed),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=data_dir.parent, env=environment,
    )  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    ready = asyncio.Event()
    reading = asyncio.create_task(_read_acks(child.stdout, round_, acks, ready))
    errors = asyncio.create_task(child.stderr.read())
    if rng.random() < 0.2:
        await asyncio.sleep(rng.uniform(0.0, 2.5))
        acks.rounds_killed_in_startup += not ready.is_set()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), READY_TIMEOUT)
        if not ready.is_set():
            acks.rounds_failed_to_start += 1
        await asyncio.sleep(rng.uniform(0.02, 2.0))
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signal.SIGKILL)
    await child.wait()
    await reading
    stderr = (await errors).decode(errors="replace")
    if watch is not None:
        watch.scan_output("durability child stderr", stderr)
    if (data_dir / DATABASE).exists() and integrity(data_dir / DATABASE) != "ok":
        acks.integrity_failures += 1


async def verify(data_dir: Path, seed: int, acks: Acks) -> tuple[int, int, str]:
    """(acknowledged adds missing or changed, acknowledged deletes undone, final integrity_check)."""
    missing = resurrected = 0
    async with open_hub(settings=load_settings(data_dir=data_dir)) as hub:
        for memory_id, (round_, lane, n) in acks.added.items():
            record = await hub.scoped(writer_key(round_)).get(memory_id)
            if memory_id in acks.deleted:
                resurrected += record is not None
            elif memory_id in acks.deleting:
                continue  # the kill came during its delete: gone or kept are both correct
            elif record is None or record.text != written_text(seed, round_, lane, n):
                missing += 1
    return missing, resurrected, integrity(data_dir / DATABASE)


async def kill_rounds(data_dir: Path, *, rounds: int, seed: int, watch: LogWatch | None = None) -> Acks:
    """Run ``rounds`` writer children on ``data_dir``, killing each; what they acknowledged."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    acks = Acks()
    for round_ in range(rounds):
        await _round(data_dir, round_, seed, rng, acks, watch)
    return acks


async def check_durability(
    data_dir: Path, *, rounds: int, seed: int, watch: LogWatch | None = None
) -> Figure:
    started = time.perf_counter()
    acks = await kill_rounds(data_dir, rounds=rounds, seed=seed, watch=watch)
    missing, resurrected, final_integrity = await verify(data_dir, seed, acks)
    passed = (
        missing == 0
        and resurrected == 0
        and final_integrity == "ok"
        and acks.integrity_failures == 0
        and acks.rounds_failed_to_start == 0
        and len(acks.added) > 0
    )
    return Figure(
        guarantee="durability",
        volume=f"{rounds} SIGKILL rounds",
        mix=(
            f"{len(acks.added):,} acked adds, {len(acks.deleted):,} acked deletes; "
            f"{acks.rounds_killed_in_startup} killed during start-up"
        ),
        result=(
            f"acknowledged writes lost: {missing + resurrected}  "
            f"integrity_check: {final_integrity} "
            f"(after every kill: {rounds - acks.integrity_failures}/{rounds} ok)"
        ),
        passed=passed,
        data={
            "rounds": rounds,
            "seed": seed,
            "acknowledged_adds": len(acks.added),
            "acknowledged_deletes": len(acks.deleted),
            "adds_lost": missing,
            "deletes_undone": resurrected,
            "deletes_in_flight_at_a_kill": len(acks.deleting - acks.deleted),
            "rounds_killed_during_startup": acks.rounds_killed_in_startup,
            "rounds_that_failed_to_start": acks.rounds_failed_to_start,
            "integrity_failures_after_a_kill": acks.integrity_failures,
            "final_integrity_check": final_integrity,
            "store": "SQLite WAL, synchronous=NORMAL (process kill, not power loss)",
        },
        seconds=round(time.perf_counter() - started, 1),
    )

"""The forget barrier and its neighbours, each as repeated trials on the real stack, each counted in
leftovers (memories or readable copies that outlive a forget):

- extraction after forget: one extraction waiting on the model (a fake on 127.0.0.1) and two queued
  behind it when the person forgets; nothing of the three may land;
- add in flight: an add waiting for the write lock (held by another connection) with its key
  captured, while a second hub - another process - forgets the person;
- reader snapshot: another connection holds a read transaction through a forget; a copy of the
  files taken then, restored with the key store as it is after, must yield nothing, and the next
  process to open the store must complete the flush;
- cache timing: Alice stores sentences, Bob searches for them and for sentences nobody stored. No
  vector computed for Alice may serve Bob, and Bob's latency must not tell the two apart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
import sqlite3
import statistics
import time
from typing import Any

from pydantic import SecretStr

from bench.assurance.report import Figure, canary
from core import Settings, UserKey, open_hub
from tests.loopback.openai_server import FakeOpenAI, extracted

KEY_FILES = ("keys.sqlite3", "keys.sqlite3-wal", "keys.sqlite3-shm")


async def _until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def extraction_after_forget(settings: Settings, trials: int, rng: random.Random) -> int:
    fake = FakeOpenAI()
    llm = settings.model_copy(
        update={
            "openai_api_key": SecretStr("sk-assurance"),
            "openai_base_url": fake.url,
            "llm_timeout_seconds": 5.0,
        }
    )
    leftovers = 0
    try:
        async with open_hub(settings=llm) as hub:
            for trial in range(trials):
                person = hub.scoped(UserKey.cli(f"barrier-x{trial}"))
                await person.add(f"An old memory {canary(rng)}")
                steps = [dataclasses.replace(extracted(f"fact {canary(rng)}"), delay=0.5) for _ in range(3)]
                fake.script("extraction", *steps)
                asked = len(fake.requests("extraction"))
                adds = [
                    asyncio.create_task(person.add(f"secret {canary(rng)}", extract=True)) for _ in range(3)
                ]
                await _until(lambda asked=asked: len(fake.requests("extraction")) > asked)
                await person.delete_all()
                landed = await asyncio.gather(*adds)
                leftovers += sum(len(records) for records in landed) + await person.count()
    finally:
        fake.close()
    return leftovers


async def add_in_flight(settings: Settings, trials: int, rng: random.Random) -> int:
    leftovers = 0
    async with open_hub(settings=settings) as hub, open_hub(settings=settings) as other_process:
        for trial in range(trials):
            key = UserKey.cli(f"barrier-a{trial}")
            await hub.scoped(key).add(f"An old memory {canary(rng)}")
            blocker = sqlite3.connect(settings.data_dir / "memories.sqlite3", isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            adding = asyncio.create_task(hub.scoped(key).add(f"secret {canary(rng)}"))
            await asyncio.sleep(0.3)
            forgetting = asyncio.create_task(other_process.scoped(key).delete_all())
            await asyncio.sleep(0.3)
            blocker.execute("ROLLBACK")
            blocker.close()
            leftovers += len(await adding)
            await forgetting
            leftovers += await hub.scoped(key).count()
    return leftovers


async def reader_snapshot(settings: Settings, trials: int, rng: random.Random) -> tuple[int, int]:
    """(memories readable from a copy taken during the held snapshot, flushes left pending)."""
    readable = pending = 0
    for trial in range(trials):
        key = UserKey.cli(f"barrier-r{trial}")
        async with open_hub(settings=settings) as hub:
            for _ in range(3):
                await hub.scoped(key).add(f"secret {canary(rng)}")
        reader = sqlite3.connect(settings.data_dir / "memories.sqlite3", isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sealed_memories").fetchone()
        copy = settings.data_dir.with_name(f"{settings.data_dir.name}-held-{trial}")
        async with open_hub(settings=settings) as hub:
            await hub.scoped(key).delete_all()
            shutil.copytree(settings.data_dir, copy)  # what the held files contain right now
        reader.execute("COMMIT")
        reader.close()
        async with open_hub(settings=settings) as hub:  # the next process completes the flush
            pending += len(hub._backend.inner.keyring.table.unflushed())  # type: ignore[union-attr]
        for name in KEY_FILES:
            (copy / name).unlink(missing_ok=True)
            if (settings.data_dir / name).exists():
                shutil.copy2(settings.data_dir / name, copy / name)
        async with open_hub(settings=settings.model_copy(update={"data_dir": copy})) as hub:
            readable += await hub.scoped(key).count()
        shutil.rmtree(copy, ignore_errors=True)
    return readable, pending


async def cache_timing(settings: Settings, trials: int, rng: random.Random) -> tuple[int, float]:
    """(Bob's searches served a vector computed for someone else, accuracy of guessing from Bob's
    latency whether Alice had stored the sentence: 0.5 is a coin toss)."""
    served = 0
    timings: list[tuple[float, bool]] = []
    async with open_hub(settings=settings) as hub:
        alice, bob = hub.scoped(UserKey.cli("barrier-alice")), hub.scoped(UserKey.cli("barrier-bob"))
        embedder = hub._backend.inner.embedder  # type: ignore[union-attr]
        encoded: list[str] = []
        encode = embedder._encoder.encode

        def counting(texts: list[str]) -> Any:
            encoded.extend(texts)
            return encode(texts)

        embedder._encoder.encode = counting
        try:
            await bob.search("warm up the model")
            for _ in range(trials):
                stored, fresh = f"My locker is {canary(rng)}", f"My locker is {canary(rng)}"
                await alice.add(stored)
                await alice.search(stored)
                for text, was_stored in rng.sample([(stored, True), (fresh, False)], 2):
                    encoded.clear()
                    started = time.perf_counter()
                    await bob.search(text)
                    timings.append((time.perf_counter() - started, was_stored))
                    served += text not in encoded
        finally:
            embedder._encoder.encode = encode
    threshold = statistics.median(seconds for seconds, _ in timings)
    right = sum((seconds < threshold) == was_stored for seconds, was_stored in timings)
    return served, right / len(timings)


async def check_barrier(settings_for: Any, *, trials: int, timing_trials: int, seed: int) -> Figure:
    started = time.perf_counter()
    rng = random.Random(seed)
    extraction = await extraction_after_forget(settings_for("barrier-extraction"), trials, rng)
    in_flight = await add_in_flight(settings_for("barrier-in-flight"), trials, rng)
    readable, pending = await reader_snapshot(settings_for("barrier-reader"), max(1, trials // 2), rng)
    served, accuracy = await cache_timing(settings_for("barrier-cache"), timing_trials, rng)
    leftovers = extraction + in_flight + readable + pending + served
    passed = leftovers == 0 and accuracy < 0.75
    return Figure(
        guarantee="barrier",
        volume=f"{trials} trials each, {timing_trials} timing pairs",
        mix="extraction after forget, add in flight, reader snapshot, cache timing",
        result=(
            f"leftovers: extraction {extraction}, in flight {in_flight}, "
            f"reader snapshot {readable} readable / {pending} unflushed, cache {served} served  "
            f"timing guess accuracy {accuracy:.2f} (0.50 = coin toss)"
        ),
        passed=passed,
        data={
            "trials": trials,
            "timing_pairs": timing_trials,
            "extraction_after_forget_leftovers": extraction,
            "add_in_flight_leftovers": in_flight,
            "reader_snapshot_readable": readable,
            "reader_snapshot_unflushed_after_next_open": pending,
            "cache_vectors_served_to_another": served,
            "cache_timing_guess_accuracy": round(accuracy, 3),
        },
        seconds=round(time.perf_counter() - started, 1),
    )

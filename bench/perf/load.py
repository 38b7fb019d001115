"""Throughput: many people using Cubby at once from one event loop, as a bot process would.

Each simulated person is a task bound to a different seeded person's ScopedMemory. It runs commands
back to back - /recall (search + reply text) or /remember (add + reply text) - until the time is up.
Every query and every new memory is a distinct text, so nothing is served from the embedding cache.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.perf.corpus import user_key
from bench.perf.stats import cpu_count, summary
from bench.perf.workload import FreshTexts, people
from core import Hub, Source, UserKey, commands, replies

Alongside = Callable[[float], Awaitable[Any]]


def _process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class Tally:
    recalls: list[float] = field(default_factory=list)
    remembers: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def _person(
    hub: Hub,
    key: str,
    texts: FreshTexts,
    recall_share: float,
    deadline: float,
    rng: random.Random,
    tally: Tally,
) -> None:
    memory = hub.scoped(UserKey.parse(key))
    source = Source(key.partition(":")[0], "bench")
    while time.perf_counter() < deadline:
        recalling = rng.random() < recall_share
        started = time.perf_counter()
        try:
            if recalling:
                replies.recalled(await commands.recall(memory, texts.query()))
            else:
                replies.remembered(await commands.remember(memory, texts.memory(), source))
        except Exception as error:  # counted, never fatal: the figure is "errors: 0"
            tally.errors[type(error).__name__] += 1
            continue
        (tally.recalls if recalling else tally.remembers).append(time.perf_counter() - started)


async def run_load(
    hub: Hub,
    *,
    population: int,
    concurrency: int,
    seconds: float,
    recall_share: float,
    texts: FreshTexts,
    seed: int,
    alongside: Alongside | None = None,
) -> dict[str, Any]:
    """``concurrency`` people for ``seconds``; ``recall_share`` of their commands are recalls.
    ``alongside(deadline)`` (e.g. slash commands through an adapter) runs during the same window."""
    rng = random.Random(seed)
    chosen = list(dict.fromkeys(people(concurrency * 4, population, seed + 11)))[:concurrency]
    tally = Tally()
    started = time.perf_counter()
    deadline = started + seconds
    tasks = [
        _person(hub, user_key(p), texts, recall_share, deadline, random.Random(rng.random()), tally)
        for p in chosen
    ]
    extra = [alongside(deadline)] if alongside else []
    cpu_before = _process_cpu_seconds()
    results = await asyncio.gather(*tasks, *extra)
    elapsed = time.perf_counter() - started
    operations = len(tally.recalls) + len(tally.remembers)
    cpu_ms = (_process_cpu_seconds() - cpu_before) * 1000 / max(operations, 1)
    return {
        "people": len(chosen),
        "seconds": round(elapsed, 2),
        "recalls_per_s": round(len(tally.recalls) / elapsed, 1),
        "remembers_per_s": round(len(tally.remembers) / elapsed, 1),
        # CPU time of this process (all threads) per command: unlike the rates, it does not depend on
        # what else runs on a shared machine. cpus * 1000 / cpu_ms is the rate dedicated cores allow.
        "cpu_ms_per_operation": round(cpu_ms, 2),
        "rate_if_cores_were_dedicated": round(cpu_count() * 1000 / cpu_ms, 1) if cpu_ms else None,
        "recall_latency": summary(tally.recalls),
        "remember_latency": summary(tally.remembers),
        "errors": sum(tally.errors.values()),
        "error_types": dict(tally.errors),
        "alongside": results[len(tasks) :][0] if extra else None,
    }

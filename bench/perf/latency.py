"""One-at-a-time latency measurements on Cubby's stack: the store alone, and a whole recall."""

from __future__ import annotations

import time

from bench.perf.corpus import Pool
from bench.perf.stats import storage_read_bytes
from bench.perf.workload import store_probes
from core import Hub, UserKey, commands, replies
from core.memory.stores.sqlite import SQLiteVectorStore

WARM_UP = ("warm up the model", "and the page cache", "one more warm-up search")


def store_latencies(
    store: SQLiteVectorStore, pool: Pool, people: int, samples: int, seed: int
) -> tuple[list[float], int, float | None]:
    """Per-user top-5 search on the store itself, for people drawn across the whole population.
    Returns the latencies, how many searches returned nothing (must be 0: everyone has rows) and the
    KB read from storage per search (0 while the database fits in the page cache)."""
    probes = store_probes(samples, people, len(pool.queries), seed)
    for key, query in probes[:20]:  # warm the connection and numpy, not the measured rows
        store.search("", pool.query_vectors[query], top_k=5, filters={"user_id": key + "-warm"})
    seconds, empty = [], 0
    read_before = storage_read_bytes()
    for key, query in probes:
        vector = pool.query_vectors[query]
        started = time.perf_counter()
        hits = store.search("", vector, top_k=5, filters={"user_id": key})
        seconds.append(time.perf_counter() - started)
        empty += not hits
    read_after = storage_read_bytes()
    if read_before is None or read_after is None or not probes:
        return seconds, empty, None
    return seconds, empty, round((read_after - read_before) / 1024 / len(probes), 2)


async def warm_up(hub: Hub) -> None:
    memory = hub.scoped(UserKey.cli("bench-warm-up"))
    for text in WARM_UP:
        await memory.search(text)


async def recall_latencies(hub: Hub, workload: list[tuple[str, str]], *, format_reply: bool) -> list[float]:
    """Each (user key, query) searched in turn through the person's ScopedMemory. With
    ``format_reply``, the timing covers what an adapter does for /recall: search, then the reply text."""
    seconds = []
    for key, query in workload:
        memory = hub.scoped(UserKey.parse(key))
        started = time.perf_counter()
        if format_reply:
            replies.recalled(await commands.recall(memory, query))
        else:
            await memory.search(query)
        seconds.append(time.perf_counter() - started)
    return seconds

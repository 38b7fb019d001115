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
    _warm(store, pool, probes)
    seconds, empty, read = _searched(store, pool, probes)
    return seconds, empty, _kb_per_search(read, len(probes))


def store_latencies_beside(
    store: SQLiteVectorStore,
    people: int,
    baseline: SQLiteVectorStore,
    baseline_people: int,
    pool: Pool,
    samples: int,
    seed: int,
    block: int = 250,
) -> tuple[list[float], int, float | None, list[float]]:
    """:func:`store_latencies` of ``store``, with the same searches on ``baseline`` (a copy of the
    store as it was at ``baseline_people``) in alternating blocks of ``block``: the two are timed in
    the same minutes, so a ratio of them does not move with the shared machine's speed, which drifts
    by a third between phases of one run. The last item is the baseline's latencies."""
    probes = store_probes(samples, people, len(pool.queries), seed)
    baseline_probes = store_probes(samples, baseline_people, len(pool.queries), seed)
    _warm(store, pool, probes)
    _warm(baseline, pool, baseline_probes)
    seconds: list[float] = []
    beside: list[float] = []
    empty = 0
    read: int | None = 0  # None once storage reads cannot be counted here
    for at in range(0, samples, block):
        timed, missing, bytes_read = _searched(store, pool, probes[at : at + block])
        seconds += timed
        empty += missing
        read = None if read is None or bytes_read is None else read + bytes_read
        beside += _searched(baseline, pool, baseline_probes[at : at + block])[0]
    return seconds, empty, _kb_per_search(read, len(probes)), beside


def _warm(store: SQLiteVectorStore, pool: Pool, probes: list[tuple[str, int]]) -> None:
    for key, query in probes[:20]:  # warm the connection and numpy, not the measured rows
        store.search("", pool.query_vectors[query], top_k=5, filters={"user_id": key + "-warm"})


def _searched(
    store: SQLiteVectorStore, pool: Pool, probes: list[tuple[str, int]]
) -> tuple[list[float], int, int | None]:
    """The latency of each probe's search, how many found nothing, and the bytes read from storage."""
    seconds, empty = [], 0
    read_before = storage_read_bytes()
    for key, query in probes:
        vector = pool.query_vectors[query]
        started = time.perf_counter()
        hits = store.search("", vector, top_k=5, filters={"user_id": key})
        seconds.append(time.perf_counter() - started)
        empty += not hits
    read_after = storage_read_bytes()
    read = None if read_before is None or read_after is None else read_after - read_before
    return seconds, empty, read


def _kb_per_search(read: int | None, searches: int) -> float | None:
    return None if read is None or not searches else round(read / 1024 / searches, 2)


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

"""Which person searches for what: the same list for Cubby's store and for the baseline."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from bench.perf.corpus import user_key
from bench.perf.texts import endless, memory_texts, query_texts


def people(count: int, population: int, seed: int) -> list[int]:
    """``count`` people drawn uniformly from ``population`` (with repeats when count > population)."""
    rng = np.random.default_rng([seed, 1])
    return rng.integers(0, population, count).tolist()


def store_probes(count: int, population: int, query_pool: int, seed: int) -> list[tuple[str, int]]:
    """(user key, index of a pool query vector) pairs for store-level searches."""
    rng = np.random.default_rng([seed, 2])
    who = people(count, population, seed)
    which = rng.integers(0, query_pool, count).tolist()
    return [(user_key(p), q) for p, q in zip(who, which, strict=True)]


def _query_stream(seed: int) -> Iterator[str]:
    # Shifted by one from the pool's query texts, which are embedded ahead for store-level probes.
    return endless(query_texts(seed + 1), seed)


def search_workload(count: int, population: int, seed: int) -> list[tuple[str, str]]:
    """(user key, query text) pairs; every text distinct, so no search is an embedding-cache hit."""
    texts = itertools.islice(_query_stream(seed), count)
    return [(user_key(p), t) for p, t in zip(people(count, population, seed), texts, strict=True)]


class FreshTexts:
    """Never-repeating texts for a long load, continuing after the first ``used_queries`` texts of
    :func:`search_workload` and after the ``used_memories`` memory texts the seeding pool holds."""

    def __init__(self, seed: int, used_queries: int, used_memories: int) -> None:
        self._queries = itertools.islice(_query_stream(seed), used_queries, None)
        self._memories = endless(memory_texts(seed)[used_memories:] or memory_texts(seed), seed + 3)

    def query(self) -> str:
        return next(self._queries)

    def memory(self) -> str:
        return next(self._memories)

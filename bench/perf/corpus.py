"""Synthetic people and their memories, reproducible from a seed.

People are numbered 0..N-1 and generated in chunks of :data:`CHUNK` with one random stream per chunk,
so person ``i`` has the same key, memories, ids and timestamps whether a run seeds 60 people or a
million, and whichever store (Cubby's SQLite store, mem0's stock qdrant store) is seeded.

Vectors come from a *pool*: a few thousand distinct memory texts embedded once with the real model
(cached on disk, keyed by the texts and the model). Each stored memory is one pool text with its real
vector. Per-user search cost depends on how many rows a person has, not on whether two people share a
sentence, so this keeps the figures honest while a million people seed in minutes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.perf.texts import memory_texts, query_texts
from core.memory.embedding import DIMENSIONS, MODEL_ID, shared_encoder

CHUNK = 1000
PEOPLE_PER_WORKSPACE = 200
HEAVY_SHARE = 0.005  # "a few with hundreds"
EMBED_BATCH = 64
_EPOCH = datetime(2026, 6, 1, tzinfo=UTC)

Progress = Callable[[int], None]


def user_key(index: int) -> str:
    """A canonical Cubby user key: seven in ten people on Slack (200 per workspace), the rest on Discord."""
    if index % 10 < 7:
        return f"slack:T{index // PEOPLE_PER_WORKSPACE:08X}:U{index:010X}"
    return f"discord:{100_000_000_000_000_000 + index * 7_919}"


def memory_counts(rng: np.random.Generator, people: int, cap: int) -> np.ndarray:
    """5-40 memories each, most people near the low end (mean ~12), 0.5% with 100-499."""
    counts = np.minimum(5 + np.floor(rng.exponential(7.5, people)), 40).astype(np.int64)
    heavy = rng.random(people) < HEAVY_SHARE
    counts[heavy] = rng.integers(100, 500, int(heavy.sum()))
    return np.minimum(counts, cap)


@dataclass(frozen=True, slots=True)
class Pool:
    """Really-embedded texts: memory texts for rows, query texts for store-level probes."""

    texts: list[str]
    vectors: np.ndarray  # float32, (len(texts), DIMENSIONS), unit length
    queries: list[str]
    query_vectors: np.ndarray


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for a range of people, shaped exactly as mem0 stores a verbatim add made by Cubby."""

    ids: list[str]
    vectors: np.ndarray
    payloads: list[dict[str, Any]]


def _embed(texts: list[str], progress: Progress | None) -> np.ndarray:
    encoder = shared_encoder()
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        batch = texts[start : start + EMBED_BATCH]
        parts.append(encoder.encode(batch))
        if progress:
            progress(len(batch))
    return np.concatenate(parts) if parts else np.zeros((0, DIMENSIONS), dtype=np.float32)


def _cached_embeddings(texts: list[str], cache_dir: Path | None, progress: Progress | None) -> np.ndarray:
    if cache_dir is None:
        return _embed(texts, progress)
    digest = hashlib.sha256("\n".join([MODEL_ID, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"pool-{digest}.npy"
    if path.exists():
        if progress:
            progress(len(texts))
        return np.load(path)
    vectors = _embed(texts, progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def build_pool(
    size: int, queries: int, seed: int, cache_dir: Path | None = None, progress: Progress | None = None
) -> Pool:
    """Embed ``size`` memory texts and ``queries`` query texts with the real model (or load them
    from ``cache_dir`` if this exact pool was embedded before)."""
    texts = memory_texts(seed)[:size]
    query_list = query_texts(seed)[:queries]
    vectors = _cached_embeddings(texts + query_list, cache_dir, progress)
    return Pool(texts, vectors[: len(texts)], query_list, vectors[len(texts) :])


class Corpus:
    """N synthetic people over a pool."""

    def __init__(self, pool: Pool, seed: int) -> None:
        self.pool = pool
        self.seed = seed

    def _chunk(self, chunk: int) -> tuple[np.random.Generator, np.ndarray]:
        rng = np.random.default_rng([self.seed, chunk])
        return rng, memory_counts(rng, CHUNK, cap=len(self.pool.texts))

    def count_of(self, person: int) -> int:
        return int(self._chunk(person // CHUNK)[1][person % CHUNK])

    def rows(self, start: int, stop: int) -> Iterator[Rows]:
        """Rows of people ``start``..``stop - 1``, one batch per chunk (about 13K rows)."""
        for chunk in range(start // CHUNK, (stop - 1) // CHUNK + 1 if stop > start else 0):
            rng, counts = self._chunk(chunk)
            ids: list[str] = []
            picks: list[np.ndarray] = []
            payloads: list[dict[str, Any]] = []
            for offset, count in enumerate(counts.tolist()):
                person = chunk * CHUNK + offset
                # Draw for every person of the chunk, in order, so the stream never depends on range.
                chosen = rng.choice(len(self.pool.texts), size=count, replace=False)
                raw_ids = rng.bytes(16 * count)
                ages = rng.integers(0, 730 * 86_400, count)
                if not start <= person < stop:
                    continue
                key = user_key(person)
                platform = key.partition(":")[0]
                for n, (text_index, age) in enumerate(zip(chosen.tolist(), ages.tolist(), strict=True)):
                    ids.append(str(uuid.UUID(bytes=raw_ids[16 * n : 16 * n + 16], version=4)))
                    payloads.append(self._payload(key, platform, self.pool.texts[text_index], age))
                picks.append(chosen)
            if ids:
                yield Rows(ids, self.pool.vectors[np.concatenate(picks)], payloads)

    @staticmethod
    def _payload(key: str, platform: str, text: str, age_seconds: int) -> dict[str, Any]:
        when = (_EPOCH - timedelta(seconds=age_seconds)).isoformat()
        return {
            "source": {"platform": platform, "channel": "dm", "at": when},
            "user_id": key,
            "role": "user",
            "data": text,
            "hash": hashlib.md5(text.encode()).hexdigest(),
            "created_at": when,
            "updated_at": when,
            "text_lemmatized": text,  # what mem0 stores when spaCy is absent, as in Cubby's install
        }

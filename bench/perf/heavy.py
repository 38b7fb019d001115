"""The growth table: what one person's commands cost as that person's memory count grows.

For each size (10 / 100 / 1,000 / 5,000 / 50,000 by default) one person is seeded with that many
rows in bulk through the store (pool texts with their real vectors, drawn with replacement once the
pool is smaller than the size), then timed one at a time through Cubby: ``/recall <words>`` end to
end (embed, search, reply text), the store's keyword (BM25) scoring alone, ``/recall`` without words (one
page of the listing, reply text included), ``get_all`` and ``/export``.
Each size is a different person in the same store, so the figures also show that a heavy neighbour
costs a light person nothing.
"""

from __future__ import annotations

import hashlib
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bench.perf.corpus import Pool
from bench.perf.latency import warm_up
from bench.perf.seed import close_store, open_store
from bench.perf.stats import summary
from core import ScopedMemory, Settings, UserKey, commands, open_hub, replies
from core.memory.stores import person_index

SIZES = (10, 100, 1_000, 5_000, 50_000)
_BATCH = 5_000
_EPOCH = 1_780_000_000


def person_key(size: int) -> str:
    return f"cli:heavy-{size}"


def _payload(key: str, text: str, when: str) -> dict[str, Any]:
    return {
        "source": {"platform": "cli", "channel": "dm", "at": when},
        "user_id": key,
        "role": "user",
        "data": text,
        "hash": hashlib.md5(text.encode()).hexdigest(),
        "created_at": when,
        "updated_at": when,
        "text_lemmatized": text,
    }


def seed_person(data_dir: Path, pool: Pool, size: int, seed: int) -> None:
    rng = np.random.default_rng([seed, size])
    picks = rng.choice(len(pool.texts), size=size, replace=size > len(pool.texts))
    ages = rng.integers(0, 730 * 86_400, size)
    key = person_key(size)
    store = open_store(data_dir)
    try:
        store.keyring.ensure_many([key])
        for at in range(0, size, _BATCH):
            chosen = picks[at : at + _BATCH].tolist()
            whens = [
                time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(_EPOCH - int(age)))
                for age in ages[at : at + _BATCH].tolist()
            ]
            payloads = [_payload(key, pool.texts[i], w) for i, w in zip(chosen, whens, strict=True)]
            ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in chosen]
            store.insert(list(pool.vectors[chosen]), payloads, ids)
        store.checkpoint()
    finally:
        close_store(store)


def _timed(samples: list[float], started: float) -> None:
    samples.append(time.perf_counter() - started)


async def measure(settings: Settings, pool: Pool, sizes: list[int], samples: int, seed: int) -> list[dict]:
    """One row of the growth table per size (milliseconds, p50/p99 of ``samples`` calls each)."""
    # Room for the /remember timings of the person already at the largest size.
    cap = max(settings.max_memories_per_user, max(sizes) + samples)
    settings = settings.model_copy(update={"max_memories_per_user": cap})
    for size in sizes:
        seed_person(settings.data_dir, pool, size, seed)
    table = []
    async with open_hub(settings=settings) as hub:
        await warm_up(hub)
        store = open_store(settings.data_dir)  # the same file, read beside the hub
        try:
            for size in sizes:
                memory = hub.scoped(UserKey.parse(person_key(size)))
                queries = [pool.queries[i % len(pool.queries)] for i in range(samples)]
                recall: list[float] = []
                keyword: list[float] = []
                listing: list[float] = []
                export: list[float] = []
                paged: list[float] = []
                for query in queries:
                    started = time.perf_counter()
                    replies.recalled(await commands.recall(memory, query))
                    _timed(recall, started)
                    started = time.perf_counter()
                    store.keyword_search(query, top_k=60, filters={"user_id": person_key(size)})
                    _timed(keyword, started)
                for page in range(1, max(3, samples // 3) + 1):
                    started = time.perf_counter()
                    replies.recalled(await commands.recall(memory, None, page=page))
                    _timed(paged, started)
                for _ in range(max(3, samples // 10)):
                    started = time.perf_counter()
                    listed = await memory.get_all()
                    _timed(listing, started)
                    started = time.perf_counter()
                    exported = await commands.export(memory)
                    _timed(export, started)
                if len(listed) != size or exported.count != size:
                    raise RuntimeError(f"the person with {size} memories listed {len(listed)}")
                remember_then_recall = await _remember_then_recall(memory, queries[: max(3, samples // 3)])
                table.append(
                    {
                        "memories": size,
                        "recall_end_to_end": summary(recall),
                        "keyword_scoring": summary(keyword),
                        "recall_a_page": summary(paged),
                        "get_all": summary(listing),
                        "export": summary(export),
                        "remember_then_recall": summary(remember_then_recall),
                    }
                )
        finally:
            close_store(store)
    await _recall_opening_every_row(settings, pool, sizes, samples, table)
    return table


async def _remember_then_recall(memory: ScopedMemory, queries: list[str]) -> list[float]:
    """A /remember followed by a /recall, as a heavy person chatting does: the new row joins the
    held index instead of every row being opened again."""
    seconds = []
    for n, query in enumerate(queries):
        started = time.perf_counter()
        await commands.remember(memory, f"heavy note {n}: {query}")
        replies.recalled(await commands.recall(memory, query))
        _timed(seconds, started)
    return seconds


async def _recall_opening_every_row(
    settings: Settings, pool: Pool, sizes: list[int], samples: int, table: list[dict]
) -> None:
    """The same recalls with no held index - every row fetched and opened on every search, as before
    indexes were held - in the same run, so the table can show the ratio."""
    held_from = person_index.MIN_ROWS
    person_index.MIN_ROWS = sys.maxsize
    try:
        async with open_hub(settings=settings) as hub:
            await warm_up(hub)
            for row in table:
                memory = hub.scoped(UserKey.parse(person_key(row["memories"])))
                recall: list[float] = []
                for i in range(max(3, samples // 3)):
                    started = time.perf_counter()
                    replies.recalled(await commands.recall(memory, pool.queries[i % len(pool.queries)]))
                    _timed(recall, started)
                row["recall_opening_every_row"] = summary(recall)
    finally:
        person_index.MIN_ROWS = held_from


def main() -> None:  # a quick look without the whole bench: python -m bench.perf.heavy [sizes]
    import argparse
    import asyncio
    import shutil

    from bench import SCRATCH
    from bench.perf.corpus import build_pool
    from core import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--samples", type=int, default=30)
    options = parser.parse_args()
    data_dir = SCRATCH / "heavy"
    shutil.rmtree(data_dir, ignore_errors=True)
    pool = build_pool(4096, 512, 7, SCRATCH / "pool-cache")
    sizes = [int(s) for s in options.sizes.split(",")]
    try:
        table = asyncio.run(measure(load_settings(data_dir=data_dir), pool, sizes, options.samples, 7))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print("memories  recall  recall-every-row  remember+recall  keyword  a-page  get_all  export (p50 ms)")
    for row in table:
        figures = (
            "recall_end_to_end",
            "recall_opening_every_row",
            "remember_then_recall",
            "keyword_scoring",
            "recall_a_page",
            "get_all",
            "export",
        )
        cells = [f"{row[k]['p50_ms']:8.2f}" for k in figures]
        print(f"{row['memories']:>7,}  " + "  ".join(cells))


if __name__ == "__main__":
    main()

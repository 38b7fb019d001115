"""The baseline: mem0's stock default vector store - qdrant-client in local mode (``path=``), through
mem0's own ``Qdrant`` adapter (loaded by mem0's factory under its stock provider name ``"qdrant"``) with
the defaults of mem0's ``QdrantConfig`` (collection ``mem0``, vectors in memory) - seeded with exactly
the people, texts, ids and vectors Cubby's store gets.

No bench module imports mem0: the store is built through ``core.memory.mem0_setup.build_memory``, as
Cubby's own store is. It runs in its own process (``python -m bench.perf.baseline_qdrant``, JSON on the
last stdout line) so qdrant's large heap and its threads never touch the figures of the parent.

Measured: the store's own per-user search (``vector_store.search`` with ``{"user_id": key}``), and
the full ``ScopedMemory.search`` path - Cubby's hub and mem0's ``Memory.search`` unchanged, only the
store swapped - so the ratio against Cubby compares like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bench.perf.corpus import Corpus, build_pool
from bench.perf.plain_store import NoKeyring
from bench.perf.stats import peak_rss_mb, progress_bar, summary
from bench.perf.workload import search_workload, store_probes
from core import Hub, UserKey, load_settings
from core.memory.backends.mem0 import Mem0Backend
from core.memory.backends.threaded import ThreadedBackend
from core.memory.embedding import DIMENSIONS
from core.memory.mem0_setup import build_memory

_INSERT_BATCH = 5_000


class StockStoreBackend(Mem0Backend):
    """Cubby's backend over a store that has none of Cubby's extras (no sealing either); only
    searching is used here."""

    def _attach_keyring(self) -> None:
        """The stock store keeps rows in clear; there is no keyring to give it."""

    def close(self) -> None:
        self.memory.vector_store.client.close()


class StockQdrantConfig(BaseModel):
    """The fields of mem0's ``QdrantConfig`` that local mode uses, with its defaults (a test checks
    they still match). mem0 passes ``model_dump()`` to its ``Qdrant`` adapter as keyword arguments,
    and sets ``client`` to share one local client with its entity store."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection_name: str = "mem0"
    embedding_model_dims: int = DIMENSIONS
    path: str
    on_disk: bool = False
    client: Any = None


def open_stock_memory(data_dir: Path) -> Any:
    """A mem0 ``Memory`` on the stock local qdrant store, with Cubby's local embedder and no LLM."""
    settings = load_settings(data_dir=data_dir)
    return build_memory(settings, ("qdrant", StockQdrantConfig(path=str(data_dir / "qdrant"))))


def seed(memory: Any, corpus: Corpus, people: int, show_progress: bool) -> tuple[int, float]:
    """Insert the corpus's first ``people`` people; returns (rows, seconds)."""
    started, inserted = time.perf_counter(), 0
    with progress_bar(people, "seeding qdrant (local mode)", show_progress) as advance:
        for rows in corpus.rows(0, people):
            for at in range(0, len(rows.ids), _INSERT_BATCH):
                end = at + _INSERT_BATCH
                memory.vector_store.insert(
                    vectors=rows.vectors[at:end].tolist(),
                    payloads=rows.payloads[at:end],
                    ids=rows.ids[at:end],
                )
                inserted += len(rows.ids[at:end])
            advance(len({p["user_id"] for p in rows.payloads}))
    return inserted, time.perf_counter() - started


def store_latencies(memory: Any, corpus: Corpus, people: int, samples: int, seed_: int) -> list[float]:
    seconds = []
    for key, query in store_probes(samples, people, len(corpus.pool.queries), seed_):
        vector = corpus.pool.query_vectors[query].tolist()
        started = time.perf_counter()
        memory.vector_store.search(query="", vectors=vector, top_k=5, filters={"user_id": key})
        seconds.append(time.perf_counter() - started)
    return seconds


async def scoped_latencies(memory: Any, people: int, samples: int, seed_: int) -> list[float]:
    settings = load_settings(data_dir=Path(memory.config.vector_store.config.path).parent)
    backend = StockStoreBackend(
        memory,
        keyring=NoKeyring(),  # type: ignore[arg-type]
        max_memories_per_user=settings.max_memories_per_user,
        search_threshold=settings.search_threshold,
    )
    hub = Hub(ThreadedBackend(backend), settings)
    seconds = []
    try:
        for key, query in search_workload(samples, people, seed_):
            scoped = hub.scoped(UserKey.parse(key))
            started = time.perf_counter()
            await scoped.search(query)
            seconds.append(time.perf_counter() - started)
    finally:
        await hub.close()
    return seconds


def measure(options: argparse.Namespace) -> dict[str, Any]:
    pool = build_pool(options.pool, options.query_pool, options.seed, options.cache_dir)
    corpus = Corpus(pool, options.seed)
    shutil.rmtree(options.data_dir, ignore_errors=True)
    memory = open_stock_memory(options.data_dir)
    rows, seed_seconds = seed(memory, corpus, options.people, options.progress)
    store = store_latencies(memory, corpus, options.people, options.store_samples, options.seed)
    scoped = asyncio.run(scoped_latencies(memory, options.people, options.scoped_samples, options.seed))
    return {
        "store": "qdrant-client local mode via mem0's Qdrant adapter (stock defaults)",
        "people": options.people,
        "rows": rows,
        "seed_rows_per_s": round(rows / seed_seconds, 1) if seed_seconds else None,
        "store_search": summary(store),
        "scoped_search": summary(scoped),
        "peak_rss_mb": peak_rss_mb(),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--pool", type=int, default=4096)
    parser.add_argument("--query-pool", type=int, default=512)
    parser.add_argument("--store-samples", type=int, default=20)
    parser.add_argument("--scoped-samples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--progress", action="store_true")
    return parser


def run_in_subprocess(arguments: list[str], timeout: float | None = None) -> dict[str, Any]:
    """Run this module in a fresh interpreter and return its figures (stderr passes through)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "bench.perf.baseline_qdrant", *arguments],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(measure(_parser().parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

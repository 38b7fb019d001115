"""PostgreSQL + pgvector specifics, on a real server on 127.0.0.1 (see ``postgres_server.py``). The
backend-agnostic isolation, erasure and concurrency suites also run against it (``every_backend``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core import BackendUnavailable, Settings, UserKey, load_settings, open_hub
from core.memory.backends import postgres_store

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'cubby[postgres]')")
sql = psycopg.sql

ROOT = Path(__file__).resolve().parents[2]
DIMS = 384


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", backend="postgres", database_url=postgres_url)


def open_store(settings: Settings, collection: str = "memories") -> Any:
    """Cubby's store on its own. ``postgres_store`` imports mem0 the way Cubby must (telemetry off)
    before the store's module, which imports mem0, is loaded."""
    _, config = postgres_store(settings)
    from core.memory.stores.postgres import PostgresVectorStore

    return PostgresVectorStore(**config.model_copy(update={"collection_name": collection}).model_dump())


@pytest.fixture
def store(settings: Settings) -> Iterator[Any]:
    opened = open_store(settings)
    yield opened
    opened.close()


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def seed(url: str, users: list[str], vectors: np.ndarray) -> list[str]:
    """Rows shaped like mem0's, written with COPY (the test is about reading them)."""
    ids = [str(uuid.uuid4()) for _ in users]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY memories (id, vector, payload) FROM STDIN") as copy:
            for id_, user, vector in zip(ids, users, vectors, strict=True):
                text = "[" + ",".join(f"{x:.7f}" for x in vector) + "]"
                copy.write_row((id_, text, json.dumps({"user_id": user, "data": f"memory {id_}"})))
        cur.execute("ANALYZE memories")
    return ids


def indexes(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,)).fetchall()
    return [definition for (definition,) in rows]


def test_each_table_has_a_user_index_and_no_approximate_or_full_text_index(
    store: Any, settings: Settings, postgres_url: str
) -> None:
    open_store(settings, "memories_entities").close()
    for table in ("memories", "memories_entities"):
        found = " | ".join(indexes(postgres_url, table)).lower()
        assert "((payload ->> 'user_id'::text))" in found
        for approximate_or_shared in ("hnsw", "ivfflat", "diskann", "gin"):
            assert f"using {approximate_or_shared}" not in found


def test_a_persons_search_reads_only_their_rows_through_the_user_index(store: Any, postgres_url: str) -> None:
    rng = np.random.default_rng(3)
    users = [f"cli:u{i % 500}" for i in range(5000)]
    seed(postgres_url, users, unit_vectors(rng, len(users)))
    statement, params, _ = store.search_statement(list(unit_vectors(rng, 1)[0]), 5, {"user_id": "cli:u7"})
    with psycopg.connect(postgres_url) as conn:
        [(plan,)] = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, params).fetchall()
    nodes = json.dumps(plan)
    assert '"Index Name": "memories_user_id_idx"' in nodes
    assert '"Node Type": "Seq Scan"' not in nodes


def test_search_is_exact_even_where_an_approximate_index_would_drop_rows(
    store: Any, settings: Settings, postgres_url: str
) -> None:
    """A filtered HNSW search drops most of one user's rows (recall about 0.15). With an HNSW index on the
    table and the planner pushed towards it, mem0's own query loses them; Cubby's stays exact."""
    rng = np.random.default_rng(5)
    users = [f"cli:u{i % 100}" for i in range(2000)]
    vectors = unit_vectors(rng, len(users))
    ids = seed(postgres_url, users, vectors)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE INDEX ON memories USING hnsw (vector vector_cosine_ops)")
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET enable_sort = off").format(sql.Identifier(conn.info.dbname))
        )
    store.close()
    fresh = open_store(settings)  # new sessions, with the new setting
    mem0_search = super(type(fresh), fresh).search
    found_by_cubby = found_by_mem0 = total = 0
    for person in range(0, 100, 5):
        query = unit_vectors(rng, 1)[0]
        mine = [i for i, user in enumerate(users) if user == f"cli:u{person}"]
        truth = {ids[i] for i in sorted(mine, key=lambda i: -float(vectors[i] @ query))[:10]}
        scope = {"user_id": f"cli:u{person}"}
        found_by_cubby += len(truth & {hit.id for hit in fresh.search("", list(query), 10, scope)})
        found_by_mem0 += len(truth & {hit.id for hit in mem0_search("", list(query), 10, scope)})
        total += len(truth)
    fresh.close()
    assert found_by_cubby == total
    assert found_by_mem0 < total / 2


@pytest.mark.parametrize(
    "filters", [None, {}, {"user_id": "*"}, {"user_id": {"in": ["cli:a", "cli:b"]}}, {"agent_id": "x"}]
)
def test_every_read_of_the_store_must_name_exactly_one_user(store: Any, filters) -> None:
    store.insert([[1.0] + [0.0] * (DIMS - 1)], [{"user_id": "cli:a", "data": "mine"}], [str(uuid.uuid4())])
    with pytest.raises(ValueError):
        store.search("mine", [1.0] + [0.0] * (DIMS - 1), 5, filters)
    with pytest.raises(ValueError):
        store.list(filters)
    with pytest.raises(ValueError):
        store.keyword_search("mine", 5, filters)


def test_a_rows_owner_never_changes(store: Any) -> None:
    row = str(uuid.uuid4())
    store.insert([[1.0] + [0.0] * (DIMS - 1)], [{"user_id": "cli:a", "data": "mine"}], [row])
    with pytest.raises(ValueError):
        store.update(row, payload={"user_id": "cli:b", "data": "mine"})
    with pytest.raises(ValueError):
        store.insert([[1.0] + [0.0] * (DIMS - 1)], [{"data": "nobody's"}], [str(uuid.uuid4())])
    assert store.get(row).payload["user_id"] == "cli:a"
    assert store.get("not-a-uuid") is None


def vacuum_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT relname, vacuum_count FROM pg_stat_user_tables").fetchall()
    return dict(rows)


async def test_a_forget_vacuums_both_tables_so_no_dead_row_keeps_the_text(
    settings: Settings, postgres_url: str
) -> None:
    async with open_hub(settings=settings) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        [first, _] = [(await alice.add(text))[0] for text in ("I am vegetarian", "I play Tennis")]
        vector = [1.0] + [0.0] * (DIMS - 1)
        hub._backend.inner.entities.insert(
            [vector], [{"user_id": "cli:alice", "data": "Tennis"}], [str(uuid.uuid4())]
        )
        before = vacuum_counts(postgres_url)
        assert await alice.delete(first.id)
        after_one = vacuum_counts(postgres_url)
        assert await alice.delete_all() == 1
        after_all = vacuum_counts(postgres_url)
        await alice.add("I drink my coffee black")  # a write that deletes nothing vacuums nothing
    assert before["memories"] < after_one["memories"] < after_all["memories"]
    assert before["memories_entities"] == after_one["memories_entities"] < after_all["memories_entities"]
    assert vacuum_counts(postgres_url) == after_all


async def test_an_unreachable_database_is_a_clear_error_that_never_shows_the_password(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        backend="postgres",
        database_url="postgresql://cubby:hunter2-secret@127.0.0.1:9/cubby",
    )
    with pytest.raises(BackendUnavailable) as raised:
        async with open_hub(settings=settings):
            pass
    assert "127.0.0.1:9/cubby" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_two_cubby_processes_write_and_read_the_same_people_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    environment = {**os.environ, "CUBBY_BACKEND": "postgres", "CUBBY_DATABASE_URL": postgres_url}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.backends.shared_database_worker", name, str(tmp_path / name)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (_, errors) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, errors[-2000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(report["foreign"] == 0 for report in reports)
    assert all(report["saw_the_other_process"] for report in reports)
    assert asyncio.run(count_everyone(postgres_url, tmp_path)) == {
        "cli:shared-0": 0,  # forgotten by one process, and the other saw it go
        **{f"cli:shared-{i}": 2 * 8 for i in range(1, 6)},
    }
    assert (datetime.now(UTC) - started).total_seconds() < 120


async def count_everyone(url: str, tmp_path: Path) -> dict[str, int]:
    settings = load_settings(data_dir=tmp_path / "check", backend="postgres", database_url=url)
    async with open_hub(settings=settings) as hub:
        return {f"cli:shared-{i}": await hub.scoped(UserKey.cli(f"shared-{i}")).count() for i in range(6)}

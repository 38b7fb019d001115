"""PostgreSQL + pgvector specifics, on a real server on 127.0.0.1 (see ``postgres_server.py``). The
backend-agnostic isolation, erasure and concurrency suites also run against it (``every_backend``)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
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
from core.memory.backends import open_keyring, postgres_store

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'cubby[postgres]')")
sql = psycopg.sql

ROOT = Path(__file__).resolve().parents[2]
DIMS = 384


MASTER_KEY = "ab" * 32


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data", backend="postgres", database_url=postgres_url, master_key=MASTER_KEY
    )


def open_store(settings: Settings, collection: str = "memories") -> Any:
    """Cubby's store on its own, with the keyring of the configured database."""
    _, config = postgres_store(settings)
    from core.memory.stores.postgres import PostgresVectorStore

    store = PostgresVectorStore(**config.model_copy(update={"collection_name": collection}).model_dump())
    store.use_keyring(open_keyring(settings))
    return store


@pytest.fixture
def store(settings: Settings) -> Iterator[Any]:
    opened = open_store(settings)
    yield opened
    opened.close()
    opened.keyring.close()


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def seed(store: Any, users: list[str], vectors: np.ndarray) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in users]
    store.keyring.ensure_many(users)
    payloads = [{"user_id": user, "data": f"memory {id_}"} for id_, user in zip(ids, users, strict=True)]
    store.insert(list(vectors), payloads, ids)
    with psycopg.connect(store.connection_pool.conninfo) as conn:
        conn.execute("ANALYZE sealed_memories")
    return ids


def indexes(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,)).fetchall()
    return [definition for (definition,) in rows]


def test_tables_are_plain_sealed_rows_with_a_user_index_and_need_no_extension(
    store: Any, settings: Settings, postgres_url: str
) -> None:
    open_store(settings, "memories_entities").close()
    for table in ("sealed_memories", "sealed_memories_entities"):
        found = " | ".join(indexes(postgres_url, table)).lower()
        assert "(user_id)" in found
        for approximate_or_shared in ("hnsw", "ivfflat", "diskann", "gin"):
            assert f"using {approximate_or_shared}" not in found
    with psycopg.connect(postgres_url) as conn:
        types = conn.execute(
            "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_name LIKE 'sealed_%'"
        ).fetchall()
    assert {t for (t,) in types} == {"uuid", "text", "bigint", "bytea"}  # no vector, no jsonb


def test_search_is_exact_over_the_persons_rows_read_through_the_user_index(
    store: Any, postgres_url: str
) -> None:
    rng = np.random.default_rng(5)
    users = [f"cli:u{i % 100}" for i in range(2000)]
    vectors = unit_vectors(rng, len(users))
    ids = seed(store, users, vectors)
    found = total = 0
    for person in range(0, 100, 5):
        query = unit_vectors(rng, 1)[0]
        mine = [i for i, user in enumerate(users) if user == f"cli:u{person}"]
        truth = [ids[i] for i in sorted(mine, key=lambda i: -float(vectors[i] @ query))[:10]]
        hits = store.search("", list(query), 10, {"user_id": f"cli:u{person}"})
        found += len(set(truth) & {hit.id for hit in hits})
        total += len(truth)
    assert found >= 0.98 * total  # int8 vectors: near-ties may swap at the edge of the top 10
    with psycopg.connect(postgres_url) as conn:
        [(plan,)] = conn.execute(
            "EXPLAIN (FORMAT JSON) SELECT id, created_at, sealed FROM sealed_memories "
            "WHERE user_id = %s AND key_id = %s",
            ("cli:u7", 1),
        ).fetchall()
    assert '"Node Type": "Seq Scan"' not in json.dumps(plan)


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
    memories, entities = "sealed_memories", "sealed_memories_entities"
    assert before[memories] < after_one[memories] < after_all[memories]
    assert before[entities] == after_one[entities] < after_all[entities]
    assert before["cubby_keys"] == after_one["cubby_keys"] < after_all["cubby_keys"]
    assert vacuum_counts(postgres_url) == after_all


async def test_an_unreachable_database_is_a_clear_error_that_never_shows_the_password(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        backend="postgres",
        database_url="postgresql://cubby:hunter2-secret@127.0.0.1:9/cubby",
        master_key=MASTER_KEY,
    )
    with pytest.raises(BackendUnavailable) as raised:
        async with open_hub(settings=settings):
            pass
    assert "127.0.0.1:9/cubby" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def _finished(worker: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    """The worker's output; a worker still running after ``timeout`` fails the test with the stacks of
    all its threads (it normally takes a few seconds; a hang was seen once under load)."""
    try:
        return worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.send_signal(signal.SIGABRT)
        _, errors = worker.communicate()
        pytest.fail(f"a Cubby process hung; its threads:\n{errors[-8000:]}")


def test_two_cubby_processes_write_and_read_the_same_people_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    environment = {
        **os.environ,
        "CUBBY_BACKEND": "postgres",
        "CUBBY_DATABASE_URL": postgres_url,
        "CUBBY_MASTER_KEY": MASTER_KEY,
        "PYTHONFAULTHANDLER": "1",  # a worker sent SIGABRT prints every thread's stack
    }
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
    outputs = [_finished(worker) for worker in workers]
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
    settings = load_settings(
        data_dir=tmp_path / "check", backend="postgres", database_url=url, master_key=MASTER_KEY
    )
    async with open_hub(settings=settings) as hub:
        return {f"cli:shared-{i}": await hub.scoped(UserKey.cli(f"shared-{i}")).count() for i in range(6)}


async def test_a_table_of_the_earlier_pgvector_layout_is_sealed_and_dropped_on_first_open(
    settings: Settings, postgres_url: str
) -> None:
    vector = "[" + ",".join(["0.5"] + ["0.0"] * (DIMS - 1)) + "]"
    payload = {
        "user_id": "cli:alice",
        "data": "I kept this in clear",
        "created_at": "2026-11-01T10:00:00+00:00",
    }
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE memories (id uuid PRIMARY KEY, vector vector(384), payload jsonb)")
        conn.execute(
            "INSERT INTO memories VALUES (%s, %s::vector, %s)",
            (str(uuid.uuid4()), vector, json.dumps(payload)),
        )
    async with open_hub(settings=settings) as hub:
        assert [r.text for r in await hub.scoped(UserKey.cli("alice")).get_all()] == ["I kept this in clear"]
    with psycopg.connect(postgres_url) as conn:
        tables = {name for (name,) in conn.execute("SELECT tablename FROM pg_tables").fetchall()}
    assert "memories" not in tables and "sealed_memories" in tables

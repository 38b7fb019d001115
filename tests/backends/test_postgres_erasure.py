"""Erasure by key on PostgreSQL: a ``pg_dump`` taken before a forget, restored with the key table as
it is after it, yields nothing of the forgotten person; and no memory text or vector ever reaches the
server in clear, so none is in any file of its data directory (heap, indexes, WAL)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core import Settings, UserKey, load_settings, open_hub

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'cubby[postgres]')")

MASTER_KEY = "cd" * 32


def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data", backend="postgres", database_url=postgres_url, master_key=MASTER_KEY
    )


def pg_dump(server: Any, url: str, path: Path, *extra: str) -> None:
    subprocess.run([server._bin("pg_dump"), "--no-owner", *extra, "-f", str(path), url], check=True)


def restore(server: Any, dump: Path, database: str) -> str:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = server.url(database)
    subprocess.run(
        [server._bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), url],
        check=True,
        capture_output=True,
    )
    return url


def replace_key_table(source_url: str, target_url: str) -> None:
    with psycopg.connect(source_url) as source:
        rows = source.execute("SELECT user_id, key_id, master, wrapped FROM cubby_keys").fetchall()
    with psycopg.connect(target_url) as target:
        target.execute("DELETE FROM cubby_keys")
        with target.cursor() as cur:
            cur.executemany("INSERT INTO cubby_keys VALUES (%s, %s, %s, %s)", rows)


async def test_a_dump_made_before_a_forget_yields_nothing_of_that_person(
    settings: Settings, postgres_server: Any, postgres_url: str, tmp_path: Path
) -> None:
    alice_key, bob_key = UserKey.cli("alice"), UserKey.cli("bob")
    bob_texts = sorted(f"Bob's note {canary()}" for _ in range(3))
    dump = tmp_path / "before.sql"
    async with open_hub(settings=settings) as hub:
        for _ in range(4):
            await hub.scoped(alice_key).add(f"Alice's secret {canary()}")
        for text in bob_texts:
            await hub.scoped(bob_key).add(text)
        pg_dump(postgres_server, postgres_url, dump)
        assert await hub.scoped(alice_key).delete_all() == 4

    database = f"cubby_restored_{uuid.uuid4().hex[:12]}"
    restored_url = restore(postgres_server, dump, database)
    try:
        with psycopg.connect(restored_url) as conn:
            [(rows,)] = conn.execute(
                "SELECT count(*) FROM sealed_memories WHERE user_id = %s", (str(alice_key),)
            ).fetchall()
        assert rows == 4  # the dump really holds Alice's rows - sealed
        replace_key_table(postgres_url, restored_url)
        restored = load_settings(
            data_dir=settings.data_dir, backend="postgres", database_url=restored_url, master_key=MASTER_KEY
        )
        async with open_hub(settings=restored) as hub:
            assert await hub.scoped(alice_key).get_all() == []
            assert await hub.scoped(alice_key).search("Alice's secret") == []
            assert sorted(r.text for r in await hub.scoped(bob_key).get_all()) == bob_texts
    finally:
        with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def test_no_memory_text_or_vector_reaches_the_server_in_clear(
    settings: Settings, postgres_server: Any, postgres_url: str
) -> None:
    texts = [f"My locker code is {canary()}" for _ in range(3)]
    async with open_hub(settings=settings) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        vectors = [hub._backend.inner.embedder.embed(text) for text in texts]
        for text in texts:
            await alice.add(text)
        await alice.search(texts[0])
        assert len(await alice.get_all()) == 3
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")  # heap and index pages written out, as well as the WAL
        needles = [text.encode() for text in texts]
        needles += [np.asarray(v, dtype=np.float32).tobytes()[:32] for v in vectors]
        data_dir = Path(postgres_server.data_dir)
        holding = [
            str(path)
            for path in data_dir.rglob("*")
            if path.is_file() and any(needle in path.read_bytes() for needle in needles)
        ]
        assert holding == []
        await alice.delete_all()

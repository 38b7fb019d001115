"""Erasure by construction on the embedded store: a forget destroys the person's key, so every copy
of their rows - a backup taken before, a WAL frame, a reader's snapshot - is ciphertext nobody can
open, and nothing that began before the forget lands after it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import numpy as np

from core import Settings, UserKey, open_hub
from core.memory.crypto.sealed import quantize
from core.memory.embedding import DIMENSIONS, LocalEmbedder

KEY_FILES = ("keys.sqlite3", "keys.sqlite3-wal", "keys.sqlite3-shm")


def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


def files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def clear_copies(root: Path, texts: list[str], vectors: list[list[float]]) -> list[str]:
    """Files under ``root`` holding any of ``texts`` in UTF-8, or a stretch of any of ``vectors`` as
    float32 or as the int8 the store would keep."""
    needles = [text.encode() for text in texts]
    for vector in vectors:
        as_float = np.asarray(vector, dtype=np.float32).tobytes()
        needles += [as_float[:32], as_float[800:832], quantize(vector, DIMENSIONS)[100:124]]
    return [str(path) for path in files(root) if any(n in path.read_bytes() for n in needles)]


def restore_with_current_keys(backup: Path, live: Path) -> None:
    """Put the key store as it is now into a copy of the data dir made earlier."""
    for name in KEY_FILES:
        (backup / name).unlink(missing_ok=True)
        if (live / name).exists():
            shutil.copy2(live / name, backup / name)


def rows_in_file(database: Path, user: str) -> int:
    with sqlite3.connect(database) as db:
        return db.execute('SELECT count(*) FROM "sealed_memories" WHERE user_id = ?', (user,)).fetchone()[0]


async def test_a_backup_made_before_a_forget_yields_nothing_of_that_person(
    settings: Settings, tmp_path: Path
) -> None:
    alice_key, bob_key = UserKey.cli("alice"), UserKey.cli("bob")
    bob_texts = [f"Bob's note {canary()}" for _ in range(3)]
    backup = tmp_path / "backup"
    async with open_hub(settings=settings) as hub:
        for _ in range(5):
            await hub.scoped(alice_key).add(f"Alice's secret {canary()}")
        for text in bob_texts:
            await hub.scoped(bob_key).add(text)
        shutil.copytree(settings.data_dir, backup)
        assert await hub.scoped(alice_key).delete_all() == 5

    # The backup still holds Alice's five rows - sealed under a key that no longer exists.
    assert rows_in_file(backup / "memories.sqlite3", str(alice_key)) == 5
    restore_with_current_keys(backup, settings.data_dir)
    async with open_hub(settings=settings.model_copy(update={"data_dir": backup})) as hub:
        alice, bob = hub.scoped(alice_key), hub.scoped(bob_key)
        assert await alice.get_all() == [] and await alice.count() == 0
        assert await alice.search("Alice's secret") == []
        assert sorted(r.text for r in await bob.get_all()) == sorted(bob_texts)
        # A new memory after the restore gets a new key; the old rows stay unreadable.
        await alice.add("A fresh start")
        assert [r.text for r in await alice.get_all()] == ["A fresh start"]


async def test_a_backup_of_the_key_store_from_before_the_forget_would_undo_it(
    settings: Settings, tmp_path: Path
) -> None:
    """Why the README says to keep key-store backups only briefly: with an old key store the old
    rows open again. This is the one copy whose retention decides when a forget is final."""
    alice_key = UserKey.cli("alice")
    backup = tmp_path / "backup"
    async with open_hub(settings=settings) as hub:
        await hub.scoped(alice_key).add("Alice's secret")
        shutil.copytree(settings.data_dir, backup)
        await hub.scoped(alice_key).delete_all()
    async with open_hub(settings=settings.model_copy(update={"data_dir": backup})) as hub:
        assert [r.text for r in await hub.scoped(alice_key).get_all()] == ["Alice's secret"]


async def test_no_memory_text_or_vector_is_ever_in_clear_on_disk(settings: Settings) -> None:
    texts = [f"My locker code is {canary()}" for _ in range(4)]
    entity = f"Zebulon {canary()}"
    async with open_hub(settings=settings) as hub:
        alice = hub.scoped(UserKey.slack("T1", "U1"))
        vectors = [hub._backend.inner.embedder.embed(text) for text in texts]
        for text in texts:
            await alice.add(text)
        hub._backend.inner.entities.insert(
            vectors=[vectors[0]],
            ids=[str(uuid.uuid4())],
            payloads=[{"data": entity, "user_id": "slack:T1:U1"}],
        )
        await alice.search(texts[0])
        assert len(await alice.get_all()) == 4
        assert clear_copies(settings.data_dir, [*texts, entity], vectors) == []
        await alice.delete(next(iter(await alice.get_all())).id)
        assert clear_copies(settings.data_dir, [*texts, entity], vectors) == []
        await alice.delete_all()
    assert clear_copies(settings.data_dir, [*texts, entity], vectors) == []
    # The scan is real: it finds a clear copy where there is one.
    (settings.data_dir / "planted").write_bytes(np.asarray(vectors[1], dtype=np.float32).tobytes())
    assert clear_copies(settings.data_dir, texts, vectors) == [str(settings.data_dir / "planted")]


async def test_an_add_in_flight_during_a_forget_lands_nothing(settings: Settings) -> None:
    """Another process holds the write lock, so the add waits inside its insert with its key captured;
    a forget from a second process meanwhile destroys the key. Whichever write then goes first, none
    of the add lands."""
    key = UserKey.cli("alice")
    secret = canary()
    async with open_hub(settings=settings) as hub, open_hub(settings=settings) as operator:
        await hub.scoped(key).add("Alice's first memory")
        blocker = sqlite3.connect(settings.data_dir / "memories.sqlite3", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        adding = asyncio.create_task(hub.scoped(key).add(f"Alice's secret {secret}"))
        await asyncio.sleep(0.5)  # embedded, key captured, waiting for the write lock
        forgetting = asyncio.create_task(operator.scoped(key).delete_all())
        await asyncio.sleep(0.5)  # key destroyed; the row delete waits for the lock too
        assert not adding.done() and not forgetting.done()
        blocker.execute("ROLLBACK")
        blocker.close()
        assert await adding == []
        assert await forgetting == 1
        assert await hub.scoped(key).get_all() == []
        assert rows_in_file(settings.data_dir / "memories.sqlite3", str(key)) == 0


async def test_an_add_asked_for_before_a_forget_but_run_after_it_is_dropped(settings: Settings) -> None:
    key = UserKey.cli("alice")
    async with open_hub(settings=settings) as hub:
        memory = hub.scoped(key)
        await memory.add("Alice's first memory")
        backend = hub._backend.inner
        metadata = {"source": {"platform": "cli"}, "_cubby_began_at": __import__("time").time()}
        await memory.delete_all()
        # The add was asked for before the forget; it reaches the store only now.
        assert backend.add(str(key), [{"role": "user", "content": "late"}], metadata, False) == []
        assert await memory.get_all() == []
        await memory.add("Asked for after the forget")
        assert [r.text for r in await memory.get_all()] == ["Asked for after the forget"]


async def test_a_readers_snapshot_delays_the_flush_but_the_next_process_completes_it(
    settings: Settings,
) -> None:
    key = UserKey.cli("alice")
    async with open_hub(settings=settings) as hub:
        for _ in range(3):
            await hub.scoped(key).add(f"Alice's secret {canary()}")
    reader = sqlite3.connect(settings.data_dir / "memories.sqlite3", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute('SELECT count(*) FROM "sealed_memories"').fetchone()  # holds a snapshot
    async with open_hub(settings=settings) as hub:
        await hub.scoped(key).add("one more write, so the WAL has frames the reader pins")
        assert await hub.scoped(key).delete_all() == 4
        assert hub._backend.inner.keyring.table.unflushed() == ["erasure"]  # recorded durably
    reader.execute("COMMIT")
    reader.close()
    async with open_hub(settings=settings) as hub:  # the next process to open the store completes it
        assert hub._backend.inner.keyring.table.unflushed() == []
        assert (settings.data_dir / "memories.sqlite3-wal").stat().st_size == 0


async def test_the_operator_command_waits_for_a_held_flush_and_completes_it(
    settings: Settings, capsys
) -> None:
    from bots.operator import forget_memories

    key = UserKey.cli("alice")
    async with open_hub(settings=settings) as hub:
        await hub.scoped(key).add(f"Alice's secret {canary()}")
    reader = sqlite3.connect(
        settings.data_dir / "memories.sqlite3", isolation_level=None, check_same_thread=False
    )
    reader.execute("BEGIN")
    reader.execute('SELECT count(*) FROM "sealed_memories"').fetchone()
    threading.Timer(1.0, lambda: (reader.execute("COMMIT"), reader.close())).start()
    assert await forget_memories(settings, str(key), assume_yes=True) == 0
    async with open_hub(settings=settings) as hub:
        assert hub._backend.inner.keyring.table.unflushed() == []


async def test_the_operator_command_fails_loudly_if_the_flush_cannot_complete(
    settings: Settings, capsys, monkeypatch
) -> None:
    from bots import operator

    monkeypatch.setattr(operator, "FLUSH_WAIT_SECONDS", 0.5)
    key = UserKey.cli("alice")
    async with open_hub(settings=settings) as hub:
        await hub.scoped(key).add(f"Alice's secret {canary()}")
    reader = sqlite3.connect(settings.data_dir / "memories.sqlite3", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute('SELECT count(*) FROM "sealed_memories"').fetchone()
    try:
        assert await operator.forget_memories(settings, str(key), assume_yes=True) == 2
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert "not flushed" in capsys.readouterr().err


async def test_embeddings_serve_only_the_call_they_were_made_for(settings: Settings) -> None:
    shared = "I take the 8:15 train to work"
    async with open_hub(settings=settings) as hub:
        alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
        embedder: LocalEmbedder = hub._backend.inner.embedder
        encoded: list[str] = []
        real_encode = embedder._encoder.encode

        def counting(texts: list[str]):
            encoded.extend(texts)
            return real_encode(texts)

        embedder._encoder.encode = counting  # type: ignore[method-assign]
        await alice.add(shared)
        await alice.search(shared)
        assert embedder.waiting() == 0  # nothing outlives the call it was primed for
        encoded.clear()
        await bob.search(shared)
        assert encoded.count(shared) == 1  # computed for Bob, not served from Alice's calls
        assert embedder.waiting() == 0


async def test_a_store_written_before_rows_were_sealed_is_sealed_when_first_opened(
    settings: Settings,
) -> None:
    from bench.perf.plain_store import PlainSQLiteStore

    secret = canary()
    settings.data_dir.mkdir(parents=True)
    old = PlainSQLiteStore("memories", str(settings.data_dir / "memories.sqlite3"), DIMENSIONS)
    vector = LocalEmbedder().embed(f"My locker code is {secret}")
    payload = {
        "user_id": "cli:alice",
        "data": f"My locker code is {secret}",
        "hash": "0" * 32,
        "created_at": "2026-11-01T10:00:00+00:00",
        "updated_at": "2026-11-01T10:00:00+00:00",
    }
    old.insert([vector], [payload], [str(uuid.uuid4())])
    old.close()
    assert clear_copies(settings.data_dir, [secret], [vector])  # in clear, as stores were

    async with open_hub(settings=settings) as hub:
        assert [r.text for r in await hub.scoped(UserKey.cli("alice")).get_all()] == [payload["data"]]
        assert clear_copies(settings.data_dir, [secret], [vector]) == []
        assert await hub.scoped(UserKey.cli("alice")).delete_all() == 1
    assert rows_in_file(settings.data_dir / "memories.sqlite3", "cli:alice") == 0


def test_a_write_learns_the_barrier_the_pending_flush_and_its_key_from_one_read(tmp_path: Path) -> None:
    import time

    from core.memory.crypto import Keyring, MasterKey
    from core.memory.crypto.key_table import SQLiteKeyTable

    keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())
    began = time.time()
    first = keyring.before_write("cli:alice", began)
    assert not first.forgotten and not first.flush_pending and first.key is not None  # key made
    assert keyring.before_write("cli:alice", None).key.key_id == first.key.key_id  # type: ignore[union-attr]

    keyring.table.mark_unflushed("memories")
    assert keyring.before_write("cli:alice", began).flush_pending
    keyring.table.clear_unflushed("memories")

    keyring.destroy("cli:alice")
    dropped = keyring.before_write("cli:alice", began)  # began before that forget
    assert dropped.forgotten and dropped.key is None and keyring.current("cli:alice") is None
    later = keyring.before_write("cli:alice", time.time() + 1)  # began after it: a fresh key
    assert not later.forgotten and later.key is not None and later.key.key_id != first.key.key_id
    keyring.close()

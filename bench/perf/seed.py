"""Seeding Cubby's embedded store in bulk, straight through :class:`SQLiteVectorStore.insert` (the same
encoding and schema mem0's adds produce), and checking that seeded rows look like real ones."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from bench.perf.corpus import Corpus, Progress
from core import Settings, UserKey, load_settings, open_hub
from core.memory.backends import open_keyring
from core.memory.embedding import DIMENSIONS
from core.memory.mem0_setup import COLLECTION
from core.memory.stores.sqlite import SQLiteVectorStore

STORE_FILE = "memories.sqlite3"
_INSERT_BATCH = 5_000


def store_path(data_dir: Path) -> Path:
    return data_dir / STORE_FILE


def open_store(data_dir: Path) -> SQLiteVectorStore:
    """The store of ``data_dir`` with its keyring (the same master key a hub there will use)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    keyring = open_keyring(load_settings(data_dir=data_dir))
    return SQLiteVectorStore(COLLECTION, str(store_path(data_dir)), DIMENSIONS, keyring=keyring)


def copy_store(data_dir: Path, to: Path) -> None:
    """A copy of ``data_dir``'s store as it is now, in ``to``: each database through SQLite's backup
    (consistent while they are open), and the master key, so the copy opens as the original does."""
    to.mkdir(mode=0o700, parents=True, exist_ok=True)
    for database in sorted(data_dir.glob("*.sqlite3")):
        copied = to / database.name
        copied.touch(mode=0o600)  # before SQLite creates it with the umask's mode
        with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(copied)) as copy:
            source.backup(copy)
    for key in data_dir.glob("*.key"):
        shutil.copy2(key, to / key.name)


def close_store(store: SQLiteVectorStore) -> None:
    store.close()
    store.keyring.close()


def seed(store: SQLiteVectorStore, corpus: Corpus, start: int, stop: int, progress: Progress | None) -> int:
    """Insert the rows of people ``start``..``stop - 1``; returns the number of rows inserted."""
    # A bigger page cache keeps the id index's random inserts off the disk while bulk loading.
    store._db.execute("PRAGMA cache_size=-524288")
    inserted = 0
    for rows in corpus.rows(start, stop):
        for at in range(0, len(rows.ids), _INSERT_BATCH):
            end = at + _INSERT_BATCH
            store.keyring.ensure_many([p["user_id"] for p in rows.payloads[at:end]])
            store.insert(list(rows.vectors[at:end]), rows.payloads[at:end], rows.ids[at:end])
            inserted += len(rows.ids[at:end])
        if progress:
            progress(len({p["user_id"] for p in rows.payloads}))
    store.checkpoint()
    return inserted


async def real_payload_keys(settings: Settings) -> set[str]:
    """The payload keys of a memory added through the real ``ScopedMemory.add`` (in a scratch data dir),
    to check that seeded rows have the same shape."""
    async with open_hub(settings=settings) as hub:
        memory = hub.scoped(UserKey.cli("shape-probe"))
        [record] = await memory.add("I prefer aisle seats")
        store = open_store(settings.data_dir)  # the same file, read beside the hub as another process would
        try:
            row = store.get(record.id)
        finally:
            store.close()
        await memory.delete_all()
    return set(row.payload)

"""Cubby's embedded vector store: the standard library's SQLite plus numpy, plugged into mem0.

Each collection is one table of ``user_id``, ``id``, ``key_id``, ``created_at`` and the row sealed with
its person's key (:mod:`core.memory.crypto.sealed`: int8 vector and compact payload in one AES-GCM
ciphertext), clustered by ``(user_id, id)``: one person's rows sit together in a few pages, however
their writes were spread over time. Every read names exactly one user (see
:func:`core.memory.stores.filters.scoped_user`), reads only that person's rows under their current key,
opens them, and scores them exactly with numpy - so a search costs about the same at ten users or a
million, and no approximate index can drop a row. Rows under a key that no longer exists (a forgotten
person's, e.g. in a restored backup) are never read: they cannot be opened.

Keyword search (mem0's BM25 signal) is computed over the same rows of that one user. SQLite's FTS5
was left out on purpose: it would keep every word in clear in a shared index.

The database runs in WAL mode with ``secure_delete`` on, so several processes (a Slack worker, a
Discord worker, an operator command) can share it, and deleted rows are overwritten, not just unlinked.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sqlite3
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from core.memory.crypto.key_table import checkpoint_truncate
from core.memory.crypto.keyring import TOMBSTONE_OWNER, Keyring, PersonKey
from core.memory.crypto.sealed import open_row, payload_of, quantize, seal_row, vector_of
from core.memory.resident import RESIDENT
from core.memory.stores.filters import UnsupportedFilter, beyond_the_user
from core.memory.stores.person_index import HeldIndexes
from core.memory.stores.sealed_rows import (
    LandedRows,
    OneRead,
    Opened,
    StoredVector,
    oldest_first,
)
from core.memory.stores.sqlite_reads import SQLitePersonReads
from core.storage import switch_to_wal, write_transaction

_COLLECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")


class SQLiteStoreConfig(BaseModel):
    """What mem0 passes to the store's constructor (mem0 copies it, renamed, for its entity store)."""

    collection_name: str
    path: str
    embedding_model_dims: int


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the settings every Cubby process must share (the file is created 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    # Only takes effect on a new database: pages of 16 KiB keep one person's rows in a page or two.
    # (It must precede WAL mode.)
    connection.execute("PRAGMA page_size=16384")
    switch_to_wal(connection)
    # NORMAL in WAL mode loses no committed transaction when a process is killed; FULL would also
    # survive power loss at ~3 ms per write.
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA secure_delete=ON")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _expiry(payload: Mapping[str, Any]) -> str | None:
    """The payload's expiry for the indexed column; anything but text is no expiry."""
    value = payload.get("expires_at")
    return value if isinstance(value, str) and value else None


class SQLiteVectorStore(SQLitePersonReads):
    """mem0's ``VectorStoreBase`` contract (duck-typed, so this module needs no mem0 import).

    mem0 builds the store; the backend then hands it the keyring (:meth:`use_keyring`) before any
    row is written or read."""

    def __init__(
        self,
        collection_name: str,
        path: str,
        embedding_model_dims: int,
        keyring: Keyring | None = None,
        held_indexes: HeldIndexes | None = None,
        **_: object,
    ) -> None:
        if not _COLLECTION_NAME.fullmatch(collection_name):
            raise ValueError("collection names are letters, digits and underscores")
        self.collection_name = collection_name
        self.embedding_model_dims = embedding_model_dims
        self.path = Path(path)
        self._table = f'"sealed_{collection_name}"'
        # One random version per person, replaced with every write of their rows (see person_index).
        self._versions = f'"versions_{collection_name}"'
        self.held_indexes = held_indexes or HeldIndexes(collection_name, embedding_model_dims)
        self._lock = threading.RLock()
        self._db = connect(self.path)
        self._kept = RESIDENT.keep(self.path)
        self._keyring = keyring
        self._one_read = OneRead()
        self._landed = LandedRows()
        self.create_col(collection_name, embedding_model_dims, "cosine")

    def use_keyring(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._seal_rows_kept_in_clear()

    def _seal_rows_kept_in_clear(self) -> None:
        """Seal the rows of a store written before rows were sealed (table ``vec_<collection>``,
        float32 vectors and JSON in clear), in the same transaction that drops that table.
        ``secure_delete`` zeroes its freed pages, and the WAL is truncated afterwards."""
        old = f"vec_{self.collection_name}"
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (old,)):
            return
        with self._write() as db:
            rows = db.execute(f'SELECT id, vector, payload FROM "{old}"').fetchall()
            payloads = [json.loads(payload) for _, _, payload in rows]
            self.keyring.ensure_many([self._owner(payload) for payload in payloads])
            vectors = [np.frombuffer(vector, dtype=np.float32) for _, vector, _ in rows]
            sealed = self._sealed(vectors, payloads, [id_ for id_, _, _ in rows])
            db.executemany(
                f"INSERT OR IGNORE INTO {self._table} (user_id, id, key_id, created_at, sealed, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [row for _, row in sealed],
            )
            self._bump_versions(db, [key.user for key, _ in sealed])
            db.execute(f'DROP TABLE "{old}"')
        self.checkpoint()

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            raise RuntimeError("the store has no keyring yet; the backend sets it before use")
        return self._keyring

    # -- plumbing --------------------------------------------------------------------------------
    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db, self._lock)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @staticmethod
    def _owner(payload: Mapping[str, Any]) -> str:
        owner = payload.get("user_id")
        if not isinstance(owner, str) or not owner or owner == TOMBSTONE_OWNER:
            raise ValueError("every stored row belongs to exactly one user_id")
        return owner

    def _open(self, key: PersonKey, row_id: str, created_at: str | None, sealed: bytes) -> bytes:
        return open_row(key, self.collection_name, row_id, created_at, sealed)

    def _payload(self, key: PersonKey, opened: Opened) -> dict[str, Any]:
        return payload_of(opened[2], self.embedding_model_dims, key.user, opened[1])

    # -- collections -----------------------------------------------------------------------------
    def create_col(self, name: str, vector_size: int, distance: str = "cosine") -> None:
        with self._lock:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (user_id TEXT NOT NULL, id TEXT NOT NULL, "
                "key_id INTEGER NOT NULL, created_at TEXT, sealed BLOB NOT NULL, "
                "PRIMARY KEY (user_id, id)) WITHOUT ROWID"
            )
            self._db.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "sealed_{self.collection_name}_id" ON {self._table}(id)'
            )
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._versions} (user_id TEXT PRIMARY KEY, "
                "version INTEGER NOT NULL) WITHOUT ROWID"
            )
            # The expiry is kept in clear beside the sealed row (a time, never text), so a sweep
            # finds what is due with one range scan of this index instead of opening every row.
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({self._table})")}
            if "expires_at" not in columns:  # a store made before memories could expire
                self._db.execute(f"ALTER TABLE {self._table} ADD COLUMN expires_at TEXT")
            self._expiry_indexed = False

    def _index_expiry(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Create the expiry index with the first row that expires: a store where nothing expires
        (most of them) keeps no empty index page."""
        if not self._expiry_indexed and any(row[-1] is not None for row in rows):
            db.execute(
                f'CREATE INDEX IF NOT EXISTS "sealed_{self.collection_name}_expiry" ON {self._table}'
                "(expires_at) WHERE expires_at IS NOT NULL"
            )
            self._expiry_indexed = True

    def list_cols(self) -> list[str]:
        rows = self._query(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'sealed\\_%' ESCAPE '\\'"
        )
        return [name.removeprefix("sealed_") for (name,) in rows]

    def delete_col(self) -> None:
        with self._lock:
            self._db.execute(f"DROP TABLE IF EXISTS {self._table}")
            self._db.execute(f"DROP TABLE IF EXISTS {self._versions}")
        self.held_indexes.clear()

    def col_info(self) -> dict[str, Any]:
        (count,) = self._query(f"SELECT count(*) FROM {self._table}")[0]
        return {"name": self.collection_name, "count": count, "dims": self.embedding_model_dims}

    def reset(self) -> None:
        self.delete_col()
        self.create_col(self.collection_name, self.embedding_model_dims)

    # -- writes ----------------------------------------------------------------------------------
    def insert(
        self, vectors: list[Any], payloads: list[dict] | None = None, ids: list[str] | None = None
    ) -> None:
        """Seal and insert the rows. A row whose person's key was destroyed since the write began (a
        forget) is dropped: checked inside the write, so a forget's row delete, which comes after
        its key delete, waits for any row that passed the check."""
        if payloads is None or ids is None or not (len(vectors) == len(payloads) == len(ids)):
            raise ValueError("insert needs one id and one payload per vector")
        sealed_rows = self._sealed(vectors, payloads, ids)
        with self._write() as db:
            self._index_expiry(db, [row for _, row in sealed_rows])
            alive = {key.key_id: self.keyring.alive(key) for key, _ in sealed_rows}
            landed = [(key, row) for key, row in sealed_rows if alive[key.key_id]]
            db.executemany(
                f"INSERT INTO {self._table} (user_id, id, key_id, created_at, sealed, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [row for _, row in landed],
            )
            versions = self._bump_versions(db, [key.user for key, _ in landed])
        self._landed.note([str(id_) for id_ in ids], payloads, {row[1] for _, row in landed})
        self._extend_held(landed, versions)

    def landed_rows(self) -> AbstractContextManager[dict[str, dict[str, Any]]]:
        """A scope in which this thread's inserts note the payloads of the rows that landed."""
        return self._landed.scope()

    def _sealed(
        self, vectors: list[Any], payloads: list[dict], ids: list[Any]
    ) -> list[tuple[PersonKey, tuple[Any, ...]]]:
        dims = self.embedding_model_dims
        rows = []
        for vector, payload, id_ in zip(vectors, payloads, ids, strict=True):
            key = self.keyring.for_write(self._owner(payload))
            created_at, sealed = seal_row(
                key, self.collection_name, str(id_), quantize(vector, dims), payload
            )
            rows.append((key, (key.user, str(id_), key.key_id, created_at, sealed, _expiry(payload))))
        return rows

    def update(self, vector_id: str, vector: Any = None, payload: dict | None = None) -> None:
        with self._write() as db:
            found = db.execute(
                f"SELECT user_id, key_id, created_at, sealed FROM {self._table} WHERE id = ?",
                (str(vector_id),),
            ).fetchone()
            key = None if found is None else self.keyring.current(found[0])
            if found is None or key is None or key.key_id != found[1]:
                raise KeyError(f"no vector {vector_id}")
            if payload is not None and self._owner(payload) != found[0]:
                raise ValueError("a row's user_id never changes")
            old = self._open(key, str(vector_id), found[2], found[3])
            int8 = (
                vector_of(old, self.embedding_model_dims)
                if vector is None
                else quantize(vector, self.embedding_model_dims)
            )
            new_payload = payload if payload is not None else self._payload(key, (vector_id, found[2], old))
            created_at, sealed = seal_row(key, self.collection_name, str(vector_id), int8, new_payload)
            self._index_expiry(db, [(_expiry(new_payload),)])
            db.execute(
                f"UPDATE {self._table} SET created_at = ?, sealed = ?, expires_at = ? WHERE id = ?",
                (created_at, sealed, _expiry(new_payload), str(vector_id)),
            )
            self._bump_versions(db, [found[0]])

    def delete(self, vector_id: str) -> None:
        with self._write() as db:
            owners = db.execute(
                f"DELETE FROM {self._table} WHERE id = ? RETURNING user_id", (str(vector_id),)
            ).fetchall()
            self._bump_versions(db, [owner for (owner,) in owners], removed=1)

    # -- reads -----------------------------------------------------------------------------------
    def get(self, vector_id: str) -> StoredVector | None:
        rows = self._query(
            f"SELECT user_id, key_id, created_at, sealed FROM {self._table} WHERE id = ?", (str(vector_id),)
        )
        if not rows:
            return None
        user, key_id, created_at, sealed = rows[0]
        key = self.keyring.current(user)
        if key is None or key.key_id != key_id:
            return None  # under a destroyed key: it does not exist any more
        opened = (str(vector_id), created_at, self._open(key, str(vector_id), created_at, sealed))
        return StoredVector(str(vector_id), None, self._payload(key, opened))

    def list(
        self, filters: Mapping[str, Any] | None = None, top_k: int | None = None
    ) -> list[list[StoredVector]]:
        """One user's rows that pass ``filters``, oldest first."""
        key, rows, predicate = self._user_rows(filters)
        if key is None:
            return [[]]
        narrowed = predicate if beyond_the_user(filters) else None
        return [oldest_first(key, rows, self.embedding_model_dims, narrowed, top_k)]

    # -- Cubby's own operations (not part of mem0's contract) -------------------------------------
    def count(self, user_id: str, key_id: int | None = None) -> int:
        """The user's rows under their current key (``key_id``, when the caller has just read it)."""
        key_id = self.keyring.key_id(user_id) if key_id is None else key_id
        if key_id is None:
            return 0
        return self._query(
            f"SELECT count(*) FROM {self._table} WHERE user_id = ? AND key_id = ?", (user_id, key_id)
        )[0][0]

    def delete_user(self, user_id: str) -> int:
        """Delete every row of ``user_id``, under any key (a forget deletes the key first)."""
        self.held_indexes.drop(user_id)
        with self._write() as db:
            db.execute(f"DELETE FROM {self._versions} WHERE user_id = ?", (user_id,))
            return db.execute(f"DELETE FROM {self._table} WHERE user_id = ?", (user_id,)).rowcount

    def expired(self, now: str) -> builtins.list[tuple[str, str]]:
        """``(user_id, id)`` of every row whose expiry (stored as :func:`core.records.expiry_text`)
        is at or before ``now``: one range scan of the expiry index. Without that index no row
        that expires was ever written (the first one creates it), so there is nothing to scan."""
        index = f"sealed_{self.collection_name}_expiry"
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)):
            return []
        rows = self._query(
            f"SELECT user_id, id FROM {self._table} WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
        )
        return [(user, id_) for user, id_ in rows]

    def users_with_prefix(self, prefix: str) -> builtins.list[str]:  # `list` here is the method
        if not prefix:
            raise UnsupportedFilter("a user prefix must not be empty")
        # A range on the clustering key: every string that starts with the prefix sorts in it.
        past_prefix = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._query(
            f"SELECT DISTINCT user_id FROM {self._table} WHERE user_id >= ? AND user_id < ?",
            (prefix, past_prefix),
        )
        return [user for (user,) in rows]

    def checkpoint(self, attempts: int = 10) -> bool:
        """Fold the WAL into the database and truncate it. Returns False if other connections kept it
        busy throughout."""
        with self._lock:
            return checkpoint_truncate(self._db, attempts)

    def integrity_check(self) -> str:
        return self._query("PRAGMA integrity_check")[0][0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
            kept, self._kept = self._kept, False
        if kept:
            RESIDENT.release(self.path)

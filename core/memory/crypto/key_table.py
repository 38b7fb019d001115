"""Where wrapped person keys are kept: a small SQLite file of their own, ``<data dir>/keys.sqlite3``.

Apart from the memories on purpose: this file is what makes a forget final for every copy of the
memories, so it can be backed up on its own, short schedule (see the README's Guarantees). It holds
no memory text: only user keys, random key ids, keys wrapped by the master key, and tombstones that
name no one (an HMAC of the user key).

The same contract is implemented on PostgreSQL by :mod:`core.memory.stores.postgres_keys`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from core.memory.resident import RESIDENT
from core.storage import switch_to_wal, write_transaction

WrappedRow = tuple[str, int, str, bytes]  # user, key id, master fingerprint, wrapped key
WriteState = tuple[float | None, bool, WrappedRow | None]  # forgotten at, flush pending, key row


class KeyTable(Protocol):
    """Storage for wrapped keys. Every method is atomic on its own."""

    def get(self, user: str) -> WrappedRow | None: ...
    def insert_if_absent(self, row: WrappedRow) -> WrappedRow: ...
    def insert_many_if_absent(self, rows: list[WrappedRow]) -> None: ...
    def alive(self, user: str, key_id: int) -> bool: ...
    def delete(self, user: str) -> bool: ...
    def all_rows(self) -> list[WrappedRow]: ...
    def replace_all(self, rows: list[WrappedRow]) -> None: ...
    def add_tombstone(self, tag: bytes, at: float, prune_before: float) -> None: ...
    def tombstone(self, tag: bytes) -> float | None: ...
    def before_write(self, user: str, tag: bytes) -> WriteState:
        """In one read: when ``tag``'s person was last forgotten, whether an erasure flush is
        pending, and ``user``'s key row (what every add checks before it writes)."""
        ...

    def mark_unflushed(self, name: str) -> None: ...
    def unflushed(self) -> list[str]: ...
    def clear_unflushed(self, name: str) -> None: ...
    def checkpoint(self) -> bool: ...
    def close(self) -> None: ...


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (SQLite gives its -wal and -shm
    files the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def checkpoint_truncate(db: sqlite3.Connection, attempts: int = 10) -> bool:
    """Fold the WAL into the database and truncate it, so no old page image (holding erased bytes)
    stays in the WAL file. False if other connections' read snapshots kept it busy throughout."""
    db.execute("PRAGMA busy_timeout=100")  # wait briefly for readers, never for long
    try:
        for _ in range(attempts):
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.01)
        return False
    finally:
        db.execute("PRAGMA busy_timeout=30000")


class SQLiteKeyTable:
    def __init__(self, path: Path) -> None:
        _private_file(path)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        switch_to_wal(self._db)
        self._kept = RESIDENT.keep(path)
        for pragma in ("synchronous=FULL", "secure_delete=ON", "busy_timeout=30000"):
            self._db.execute(f"PRAGMA {pragma}")
        with self._write() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS person_keys (user_id TEXT PRIMARY KEY, key_id INTEGER NOT NULL "
                "UNIQUE, master TEXT NOT NULL, wrapped BLOB NOT NULL)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS tombstones (tag BLOB PRIMARY KEY, at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS unflushed (name TEXT PRIMARY KEY, since REAL NOT NULL)")

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db, self._lock)

    def _one(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def get(self, user: str) -> WrappedRow | None:
        row = self._one("SELECT user_id, key_id, master, wrapped FROM person_keys WHERE user_id = ?", (user,))
        return None if row is None else (str(row[0]), int(row[1]), str(row[2]), bytes(row[3]))  # type: ignore[call-overload]

    def insert_if_absent(self, row: WrappedRow) -> WrappedRow:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO person_keys VALUES (?, ?, ?, ?)", row)
        found = self.get(row[0])
        assert found is not None
        return found

    def insert_many_if_absent(self, rows: list[WrappedRow]) -> None:
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO person_keys VALUES (?, ?, ?, ?)", rows)

    def alive(self, user: str, key_id: int) -> bool:
        return (
            self._one("SELECT 1 FROM person_keys WHERE user_id = ? AND key_id = ?", (user, key_id))
            is not None
        )

    def delete(self, user: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM person_keys WHERE user_id = ?", (user,)).rowcount > 0

    def all_rows(self) -> list[WrappedRow]:
        with self._lock:
            rows = self._db.execute("SELECT user_id, key_id, master, wrapped FROM person_keys").fetchall()
        return [(str(u), int(k), str(m), bytes(w)) for u, k, m, w in rows]

    def replace_all(self, rows: list[WrappedRow]) -> None:
        with self._write() as db:
            db.executemany(
                "UPDATE person_keys SET master = ?, wrapped = ? WHERE user_id = ? AND key_id = ?",
                [(master, wrapped, user, key_id) for user, key_id, master, wrapped in rows],
            )

    def add_tombstone(self, tag: bytes, at: float, prune_before: float) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO tombstones VALUES (?, ?)", (tag, at))
            db.execute("DELETE FROM tombstones WHERE at < ?", (prune_before,))

    def tombstone(self, tag: bytes) -> float | None:
        row = self._one("SELECT at FROM tombstones WHERE tag = ?", (tag,))
        return None if row is None else float(row[0])  # type: ignore[arg-type]

    def before_write(self, user: str, tag: bytes) -> WriteState:
        row = self._one(
            "SELECT (SELECT at FROM tombstones WHERE tag = ?), EXISTS (SELECT 1 FROM unflushed), "
            "k.user_id, k.key_id, k.master, k.wrapped "
            "FROM (SELECT 1) LEFT JOIN person_keys k ON k.user_id = ?",
            (tag, user),
        )
        assert row is not None
        at, pending, *key = row
        found = None if key[0] is None else (str(key[0]), int(key[1]), str(key[2]), bytes(key[3]))  # type: ignore[call-overload]
        return (None if at is None else float(at), bool(pending), found)  # type: ignore[arg-type]

    def mark_unflushed(self, name: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO unflushed VALUES (?, ?)", (name, time.time()))

    def unflushed(self) -> list[str]:
        with self._lock:
            return [name for (name,) in self._db.execute("SELECT name FROM unflushed ORDER BY name")]

    def clear_unflushed(self, name: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM unflushed WHERE name = ?", (name,))

    def checkpoint(self) -> bool:
        with self._lock:
            return checkpoint_truncate(self._db)

    def close(self) -> None:
        with self._lock:
            checkpoint_truncate(self._db, attempts=1)
            self._db.close()
            kept, self._kept = self._kept, False
        if kept:
            RESIDENT.release(self.path)

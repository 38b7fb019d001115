"""Shared records in a SQLite file in the data dir, for every Cubby process on one machine.

WAL mode lets readers run beside the one writer; every write is a single autocommitted statement, so
two processes racing for one key are serialised by SQLite's write lock and exactly one insert wins.
The event loop never waits on a lock (see :class:`SqliteTable`). The file is created 0600 (SQLite
gives its -wal and -shm files the same mode), and ``secure_delete`` overwrites removed records -
sealed bot tokens included - instead of leaving them in free pages; a delete also checkpoints the
WAL, so no earlier page image of them stays in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from core.storage import switch_to_wal

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shared_records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS shared_records_expiry ON shared_records (expires_at)
    WHERE expires_at IS NOT NULL;
"""
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_INSERT = (
    "INSERT INTO shared_records (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
_KEEP_LIVE = " WHERE shared_records.expires_at IS NOT NULL AND shared_records.expires_at <= ?"


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)


def _connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    # Setting up may wait (switching to WAL, or another process recovering the WAL, takes a lock);
    # only the connection's later statements get ``busy_timeout_ms``.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    switch_to_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process loses no committed write
    db.execute("PRAGMA secure_delete=ON")
    db.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return db


class SqliteTable:
    """Each call is first tried at once on the event loop, on a connection that never waits for a
    lock: it takes tens of microseconds, where handing it to a thread can cost milliseconds while the
    loop is busy (the thread waits for the GIL). Only when another process holds the lock, or for
    deletes (which also checkpoint), does the call go to this table's own thread, which may wait."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cubby-shared-state")
        self._patient: sqlite3.Connection | None = None  # used on the executor's thread only
        self._quick: sqlite3.Connection | None = None  # used on the event loop only

    def _open(self) -> None:
        if self._patient is None:
            _create_private(self.path)
            self._patient = _connect(self.path, 30_000)
            self._patient.executescript(_SCHEMA)
            self._quick = _connect(self.path, 0)
            # A checkpoint writes and syncs the database file: never on the loop. Purges do it instead.
            self._quick.execute("PRAGMA wal_autocheckpoint=0")

    async def _run(self, work: Callable[[sqlite3.Connection], T], *, patient: bool = False) -> T:
        if self._quick is not None and not patient:
            with contextlib.suppress(sqlite3.OperationalError):
                return work(self._quick)
            # One autocommitted statement that failed changed nothing: run it again where it may
            # wait. Besides a taken lock (SQLITE_BUSY and its extended codes), WAL mode can answer a
            # connection that never waits with SQLITE_PROTOCOL when many race for its index.

        def wait_and_run() -> T:
            self._open()
            assert self._patient is not None
            return work(self._patient)

        return await asyncio.get_running_loop().run_in_executor(self._executor, wait_and_run)

    async def insert(
        self, namespace: str, key: str, value: bytes | None, ttl_seconds: float | None, replace: bool
    ) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            now = time.time()
            expires = None if ttl_seconds is None else now + ttl_seconds
            if replace:
                cursor = db.execute(_INSERT, (namespace, key, value, expires))
            else:
                cursor = db.execute(_INSERT + _KEEP_LIVE, (namespace, key, value, expires, now))
            return cursor.rowcount == 1

        return await self._run(write)

    async def select(self, namespace: str, key: str) -> bytes | None:
        def read(db: sqlite3.Connection) -> bytes | None:
            row = db.execute(
                f"SELECT value FROM shared_records WHERE namespace = ? AND key = ? AND {_LIVE}",
                (namespace, key, time.time()),
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(read)

    async def pop(self, namespace: str, key: str) -> tuple[bool, bytes | None]:
        def take(db: sqlite3.Connection) -> tuple[bool, bytes | None]:
            row = db.execute(
                "DELETE FROM shared_records WHERE namespace = ? AND key = ? RETURNING value, expires_at",
                (namespace, key),
            ).fetchone()
            if row is None or (row[1] is not None and row[1] <= time.time()):
                return False, None
            return True, row[0]

        return await self._run(take)

    async def delete(self, namespace: str, key: str, prefix: bool) -> int:
        def remove(db: sqlite3.Connection) -> int:
            if prefix:
                cursor = db.execute(
                    "DELETE FROM shared_records WHERE namespace = ? AND substr(key, 1, ?) = ?",
                    (namespace, len(key), key),
                )
            else:
                cursor = db.execute(
                    "DELETE FROM shared_records WHERE namespace = ? AND key = ?", (namespace, key)
                )
            if cursor.rowcount:
                # Fold the WAL back in, so no old page image of the removed records stays there.
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return cursor.rowcount

        return await self._run(remove, patient=True)

    async def purge_expired(self) -> int:
        def purge(db: sqlite3.Connection) -> int:
            removed = db.execute("DELETE FROM shared_records WHERE expires_at <= ?", (time.time(),)).rowcount
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return removed

        return await self._run(purge, patient=True)

    async def close(self) -> None:
        def shut() -> None:
            for db in (self._quick, self._patient):
                if db is not None:
                    db.close()
            self._quick = self._patient = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=False)

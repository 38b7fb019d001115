"""When each person was last forgotten, for the hosted platform's forget barrier.

The platform runs fact extraction in its own queue: an extraction Cubby sent before a forget can
land after it. Cubby stamps every add it sends with the time it was asked for (the ``BEGAN_AT``
metadata) and keeps here the time of each person's last forget, so a memory stamped before that
time is recognised wherever it shows up, deleted again and never returned. Kept in
``<data dir>/forgets.sqlite3`` (0600) for a day - far longer than any extraction waits - under a
hash of the user key rather than the key itself.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from core.storage import switch_to_wal

KEEP_SECONDS = 86_400.0


def _tag(user: str) -> bytes:
    return hashlib.sha256(b"cubby forget\0" + user.encode()).digest()


class ForgetLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        switch_to_wal(self._db)
        for pragma in ("secure_delete=ON", "busy_timeout=30000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE IF NOT EXISTS forgets (tag BLOB PRIMARY KEY, at REAL NOT NULL)")

    def record(self, user: str) -> float:
        """Note that ``user`` is being forgotten now; returns the time recorded."""
        now = time.time()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO forgets VALUES (?, ?)", (_tag(user), now))
            self._db.execute("DELETE FROM forgets WHERE at < ?", (now - KEEP_SECONDS,))
        return now

    def last(self, user: str) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT at FROM forgets WHERE tag = ?", (_tag(user),)).fetchone()
        return None if row is None else float(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

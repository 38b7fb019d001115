"""References to what Cubby posted that quotes a person's memories, so a forget can delete it too.

A DM answer that quotes memories, or an export file uploaded to a DM, stays on the platform after the
memories are erased unless Cubby deletes it - and people cannot delete a bot's messages. So for each
such non-ephemeral post Cubby keeps a reference (platform, kind, channel, id, when) tagged with the
ids of the memories it quoted, and never any of its text. Forgetting everything takes every
reference of the person; forgetting one memory takes the references of the posts that quoted it;
the adapter then deletes those posts on the platform.

Kept apart from the memory stores, in its own table: a SQLite file ``posts.sqlite3`` in the data dir
(mode 0600), or a ``cubby_posts`` table with ``CUBBY_BACKEND=postgres``. Reached only through
:class:`core.memory.hub.ScopedMemory`, which binds every call to one person's key.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from core.config import Settings
from core.errors import InvalidInput
from core.memory.prefs import PREFS_SCHEMA, PersonSettings, PrefsSQL
from core.memory.resident import RESIDENT
from core.records import parse_time, utc_now
from core.storage import switch_to_wal

POST_PLATFORMS = ("slack", "discord")
POST_KINDS = ("message", "file")
_POST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_COLUMNS = "platform, kind, channel, ref, memory_ids, posted_at"


@dataclass(frozen=True, slots=True)
class PostRef:
    """One thing Cubby posted: a Slack message (channel + ts), a Slack file (file id, no channel) or
    a Discord message (channel id + message id). ``posted_at`` is informational only."""

    platform: str
    kind: str
    channel: str
    id: str
    posted_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.platform not in POST_PLATFORMS or self.kind not in POST_KINDS:
            raise InvalidInput("not a post Cubby can keep a reference to")
        for value in (self.id, *((self.channel,) if self.channel else ())):
            if not isinstance(value, str) or _POST_ID.fullmatch(value) is None:
                raise InvalidInput("not a valid post id")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.platform, self.kind, self.channel, self.id)

    def to_dict(self) -> dict[str, str]:
        doc = {"platform": self.platform, "kind": self.kind, "channel": self.channel, "id": self.id}
        if self.posted_at is not None:
            doc["posted_at"] = self.posted_at.isoformat()
        return doc


def _ref(row: Sequence[Any]) -> PostRef:
    platform, kind, channel, ref, _, posted_at = row
    return PostRef(platform, kind, channel, ref, parse_time(posted_at))


def _quotes(row: Sequence[Any], memory_id: str) -> bool:
    return memory_id in json.loads(row[4])


class PostStore(Protocol):
    """Synchronous; the hub runs every call on its memory thread."""

    def add(self, user: str, ref: PostRef, memory_ids: Sequence[str]) -> None: ...
    def held(self, user: str) -> list[PostRef]: ...
    def take_all(self, user: str) -> list[PostRef]: ...
    def take_quoting(self, user: str, memory_id: str) -> list[PostRef]: ...
    def discard(self, user: str, ref: PostRef) -> None: ...
    def move(self, old: str, new: str, memory_ids: Mapping[str, str]) -> int: ...
    def person_settings(self, user: str) -> PersonSettings: ...
    def person_settings_at_once(self, user: str) -> PersonSettings | None: ...
    def set_person_settings(self, user: str, settings: PersonSettings) -> None: ...
    def erase_person_settings(self, user: str) -> None: ...
    def set_retention(self, scope: str, days: int | None) -> None: ...
    def retention_rules(self) -> list[tuple[str, int]]: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Erased:
    """What a forget erased: ``count`` memories, and the ``posts`` that quoted them, which the
    adapter deletes on the platform (their references are already gone)."""

    count: int
    posts: list[PostRef] = field(default_factory=list)


class _SQLStore(PrefsSQL, ABC):
    """The operations, written once over a DB-API connection; subclasses supply the dialect."""

    _mark = "?"

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one transaction, committed when the block ends without an error."""

    def _sql(self, text: str) -> str:
        return text.replace("?", self._mark)

    def _rows(self, cursor: Any, user: str) -> list[Sequence[Any]]:
        cursor.execute(self._sql(f"SELECT {_COLUMNS} FROM cubby_posts WHERE user_id = ?"), (user,))
        return list(cursor.fetchall())

    def _delete(self, cursor: Any, user: str, rows: Iterable[Sequence[Any]]) -> None:
        statement = (
            "DELETE FROM cubby_posts"
            " WHERE user_id = ? AND platform = ? AND kind = ? AND channel = ? AND ref = ?"
        )
        for row in rows:
            cursor.execute(self._sql(statement), (user, *row[:4]))

    def add(self, user: str, ref: PostRef, memory_ids: Sequence[str]) -> None:
        ids = json.dumps(sorted(set(memory_ids)))
        stamp = (ref.posted_at or utc_now()).isoformat()
        with self._transaction() as cursor:
            self._delete(cursor, user, [ref.key])
            cursor.execute(
                self._sql(f"INSERT INTO cubby_posts (user_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (user, *ref.key, ids, stamp),
            )

    def held(self, user: str) -> list[PostRef]:
        with self._transaction() as cursor:
            return [_ref(row) for row in self._rows(cursor, user)]

    def take_all(self, user: str) -> list[PostRef]:
        with self._transaction() as cursor:
            rows = self._rows(cursor, user)
            cursor.execute(self._sql("DELETE FROM cubby_posts WHERE user_id = ?"), (user,))
        return [_ref(row) for row in rows]

    def take_quoting(self, user: str, memory_id: str) -> list[PostRef]:
        with self._transaction() as cursor:
            rows = [row for row in self._rows(cursor, user) if _quotes(row, memory_id)]
            self._delete(cursor, user, rows)
        return [_ref(row) for row in rows]

    def discard(self, user: str, ref: PostRef) -> None:
        with self._transaction() as cursor:
            self._delete(cursor, user, [ref.key])

    def move(self, old: str, new: str, memory_ids: Mapping[str, str]) -> int:
        """Give ``old``'s references to ``new``, renaming the memory ids they quote."""
        with self._transaction() as cursor:
            rows = self._rows(cursor, old)
            self._delete(cursor, old, rows)
            for row in rows:
                ids = json.dumps(sorted(memory_ids.get(i, i) for i in json.loads(row[4])))
                self._delete(cursor, new, [row])
                cursor.execute(
                    self._sql(f"INSERT INTO cubby_posts (user_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                    (new, *row[:4], ids, row[5]),
                )
        return len(rows)


_SCHEMA = """CREATE TABLE IF NOT EXISTS cubby_posts (
    user_id TEXT NOT NULL, platform TEXT NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL,
    ref TEXT NOT NULL, memory_ids TEXT NOT NULL, posted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, platform, kind, channel, ref))"""


class SQLitePostStore(_SQLStore):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        switch_to_wal(self._db)
        self._db.execute(
            "PRAGMA synchronous=NORMAL"
        )  # as the memory store: no committed write lost on a kill
        self._db.execute("PRAGMA secure_delete=ON")
        for statement in (_SCHEMA, *PREFS_SCHEMA):
            self._db.execute(statement)
        # Person settings are read on every /remember. A thread hop costs several times the read,
        # and a WAL reader with no busy timeout never waits: it answers, or it is refused at once.
        self._instant = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        self._instant.execute("PRAGMA query_only=ON")
        self._instant_lock = threading.Lock()
        self.path = path
        self._kept = RESIDENT.keep(path)  # so that read does not wait on the disk either

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            cursor = self._db.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """One SELECT sees one snapshot by itself: no transaction, so no wait for the write lock."""
        with self._lock:
            yield self._db.cursor()

    def person_settings_at_once(self, user: str) -> PersonSettings | None:
        """Read on the caller's thread (the event loop) without waiting: None if another thread is
        reading this way, or SQLite is busy (recovering or resetting the WAL), or the store is closed."""
        if not self._instant_lock.acquire(blocking=False):
            return None
        try:
            row = self._instant.execute(
                "SELECT paused, expiry_days FROM cubby_person_settings WHERE user_id = ?", (user,)
            ).fetchone()
        except sqlite3.Error:
            return None
        finally:
            self._instant_lock.release()
        return PersonSettings(bool(row[0]), row[1]) if row else PersonSettings()

    def close(self) -> None:
        with self._instant_lock:
            self._instant.close()
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            kept, self._kept = self._kept, False
        if kept:
            RESIDENT.release(self.path)


class PostgresPostStore(_SQLStore):
    _mark = "%s"
    _SCHEMA_LOCK = 0x637562_706F7374  # "cubpost": serialises the table's creation across processes

    def __init__(self, url: str) -> None:
        from psycopg_pool import ConnectionPool

        options = {"autocommit": True, "connect_timeout": 10, "application_name": "cubby"}
        # One connection: the hub makes one call at a time, and the pool reconnects after a restart.
        self._pool = ConnectionPool(
            url, min_size=1, max_size=1, kwargs=options, name="cubby-posts", open=True
        )
        with self._transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._SCHEMA_LOCK,))
            for statement in (_SCHEMA, *PREFS_SCHEMA):
                cursor.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            yield cursor

    def close(self) -> None:
        self._pool.close()


def open_post_store(settings: Settings) -> PostStore:
    """The reference store next to the configured memory backend."""
    if settings.backend == "postgres" and settings.database_url is not None:
        return PostgresPostStore(settings.database_url.get_secret_value())
    return SQLitePostStore(settings.data_dir / "posts.sqlite3")

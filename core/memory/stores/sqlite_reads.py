"""How the embedded store reads one person's rows for a search: their held index while it is
current (:mod:`core.memory.stores.person_index`), else their rows, opened - and the per-person
versions that say whether a held index is current. A mixin of
:class:`core.memory.stores.sqlite.SQLiteVectorStore`, kept apart so the store reads as mem0's
contract."""

from __future__ import annotations

import builtins
import secrets
import sqlite3
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from core.memory.crypto.keyring import PersonKey
from core.memory.stores.filters import compile_filter, scoped_user
from core.memory.stores.person_index import HeldIndexes, scoring_of
from core.memory.stores.sealed_rows import OneRead, Opened, PersonRows, SealedReads, open_rows


class SQLitePersonReads(SealedReads):
    collection_name: str
    embedding_model_dims: int
    held_indexes: HeldIndexes
    _db: sqlite3.Connection
    _lock: threading.RLock
    _one_read: OneRead
    _table: str
    _versions: str

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _user_rows(self, filters: Mapping[str, Any] | None) -> tuple[PersonKey | None, list[Opened], Any]:
        """The one user's rows under their current key, opened, and the predicate of ``filters``."""
        user = scoped_user(filters)
        predicate = compile_filter(filters)
        held = self._one_read.held(("rows", user))
        if held is not None:
            return held[0], held[1], predicate
        key = self.keyring.current(user)
        if key is None:
            return None, [], predicate
        rows = self._query(
            f"SELECT id, created_at, sealed FROM {self._table} WHERE user_id = ? AND key_id = ?",
            (user, key.key_id),
        )
        opened = open_rows(key, self.collection_name, rows)
        self._one_read.hold(("rows", user), (key, opened))
        return key, opened, predicate

    def _live_count(self, key: PersonKey, now: str) -> int | None:
        [(count, unordered)] = self._query(
            f"SELECT count(*), count(*) - count(created_at) FROM {self._table} WHERE user_id = ? "
            "AND key_id = ? AND (expires_at IS NULL OR expires_at > ?)",
            (key.user, key.key_id, now),
        )
        return None if unordered else int(count)

    def _live_page(self, key: PersonKey, now: str, offset: int, limit: int) -> builtins.list[Opened]:
        rows = self._query(
            f"SELECT id, created_at, sealed FROM {self._table} WHERE user_id = ? AND key_id = ? "
            "AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id LIMIT ? OFFSET ?",
            (key.user, key.key_id, now, limit, offset),
        )
        return open_rows(key, self.collection_name, rows)

    def _person(self, user: str) -> PersonRows | None:
        """The one user's rows for scoring: their held index if it is current, else their rows
        opened (and held as an index if they have many)."""
        held = self._one_read.held(("scoring", user))
        if held is not None:
            return held
        key = self.keyring.current(user)
        if key is None:
            self.held_indexes.drop(user)
            return None
        person = self._held_person(key) or self._opened_person(key)
        self._one_read.hold(("scoring", user), person)
        return person

    def _held_person(self, key: PersonKey) -> PersonRows | None:
        if not self.held_indexes.holds(key.user):
            return None
        scoring = self.held_indexes.open(key, self._version(self._db, key.user))
        if scoring is None:
            return None
        return PersonRows(key, scoring, self.embedding_model_dims, None, self._rows_by_id)

    def _opened_person(self, key: PersonKey) -> PersonRows:
        select = f"SELECT id, created_at, sealed FROM {self._table} WHERE user_id = ? AND key_id = ?"
        with self._lock:
            rows = self._db.execute(select, (key.user, key.key_id)).fetchall()
            many = len(rows) >= self.held_indexes.min_rows
            version = None
            if many:  # to be held: the rows read again with their version, from one snapshot
                self._db.execute("BEGIN")
                try:
                    version = self._version(self._db, key.user)
                    rows = self._db.execute(select, (key.user, key.key_id)).fetchall()
                finally:
                    self._db.execute("COMMIT")
                many = len(rows) >= self.held_indexes.min_rows
        opened = open_rows(key, self.collection_name, rows)
        scoring = scoring_of(key, self.embedding_model_dims, opened)
        if many:
            self.held_indexes.keep(key, version, scoring)
        return PersonRows(key, scoring, self.embedding_model_dims, opened, self._rows_by_id)

    def _rows_by_id(self, key: PersonKey, ids: builtins.list[str]) -> builtins.list[Opened]:
        found = []
        for at in range(0, len(ids), 500):
            chunk = ids[at : at + 500]
            found += self._query(
                f"SELECT id, created_at, sealed FROM {self._table} WHERE user_id = ? AND key_id = ? "
                f"AND id IN ({','.join('?' * len(chunk))})",
                (key.user, key.key_id, *chunk),
            )
        return open_rows(key, self.collection_name, found)

    def _version(self, db: sqlite3.Connection, user: str) -> int | None:
        with self._lock:
            row = db.execute(f"SELECT version FROM {self._versions} WHERE user_id = ?", (user,)).fetchone()
        return None if row is None else int(row[0])

    def _bump_versions(
        self, db: sqlite3.Connection, users: builtins.list[str], removed: int = 0
    ) -> dict[str, tuple[int | None, int]]:
        """Give each of ``users`` a new random version, inside the write that changes their rows
        (``removed``: how many rows of each that write deleted). Returns each one's version before
        (only for people with a held index here; else None) and after.

        Only someone who has - or had just before this write - as many rows as a held index needs
        gets one: nobody with fewer can be held anywhere, and the write that takes a held person
        below that still changes their version. Most people are light, and this spares each of their
        writes a second table's page in the WAL."""
        floor = self.held_indexes.min_rows - removed
        changed = {
            user: (self._version(db, user) if self.held_indexes.holds(user) else None, secrets.randbits(63))
            for user in dict.fromkeys(users)
            if self._has_rows(db, user, floor)
        }
        db.executemany(
            f"INSERT INTO {self._versions} (user_id, version) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version",
            [(user, after) for user, (_, after) in changed.items()],
        )
        return changed

    def _has_rows(self, db: sqlite3.Connection, user: str, count: int) -> bool:
        """Whether ``user`` has at least ``count`` rows (under any key), reading at most that many."""
        if count <= 0:
            return True
        [(found,)] = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {self._table} WHERE user_id = ? LIMIT ?)", (user, count)
        ).fetchall()
        return int(found) >= count

    def one_read(self) -> AbstractContextManager[None]:
        """A scope in which this thread opens each person's rows once (see :class:`OneRead`)."""
        return self._one_read.scope()

    def _extend_held(
        self,
        landed: builtins.list[tuple[PersonKey, tuple[Any, ...]]],
        versions: Mapping[str, tuple[Any, Any]],
    ) -> None:
        """Add rows this process just inserted to their people's held indexes."""
        for user, (before, after) in versions.items():
            if self.held_indexes.holds(user):
                key = next(key for key, _ in landed if key.user == user)
                rows = [(row[1], row[3], row[4]) for k, row in landed if k.user == user]
                self.held_indexes.extend(key, before, after, open_rows(key, self.collection_name, rows))

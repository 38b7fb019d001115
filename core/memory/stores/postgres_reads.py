"""How the PostgreSQL store reads one person's rows for a search: their held index while it is
current (:mod:`core.memory.stores.person_index`), else their rows, opened - each in one round trip
with the person's key - and the per-person versions that say whether a held index is current. A
mixin of :class:`core.memory.stores.postgres.PostgresVectorStore`, kept apart so the store reads as
mem0's contract."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import sql

from core.memory.crypto.keyring import PersonKey
from core.memory.stores.filters import compile_filter, scoped_user
from core.memory.stores.person_index import HeldIndexes, scoring_of
from core.memory.stores.postgres_keys import KEYS
from core.memory.stores.sealed_rows import OneRead, Opened, PersonRows, SealedReads, open_rows


class PostgresPersonReads(SealedReads):
    collection_name: str
    embedding_model_dims: int
    held_indexes: HeldIndexes
    _one_read: OneRead
    _versions: sql.Identifier

    def _rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _user_rows(self, filters: Mapping[str, Any] | None) -> tuple[PersonKey | None, list[Opened], Any]:
        user = scoped_user(filters)
        predicate = compile_filter(filters)
        held = self._one_read.held(("rows", user))
        if held is not None:
            return held[0], held[1], predicate
        # One round trip: the person's wrapped key and their rows under it.
        found = self._rows(
            f"SELECT k.key_id, k.master, k.wrapped, t.id, t.created_at, t.sealed FROM {KEYS} k "
            "LEFT JOIN {t} t ON t.user_id = k.user_id AND t.key_id = k.key_id WHERE k.user_id = %s",
            (user,),
        )
        if not found:
            return None, [], predicate
        key_id, master, wrapped = found[0][:3]
        key = self.keyring.unwrap((user, int(key_id), master, bytes(wrapped)))
        rows = [(id_, at, sealed) for *_, id_, at, sealed in found if id_ is not None]
        opened = open_rows(key, self.collection_name, rows)
        self._one_read.hold(("rows", user), (key, opened))
        return key, opened, predicate

    def _live_count(self, key: PersonKey, now: str) -> int | None:
        [(count, unordered)] = self._rows(
            "SELECT count(*), count(*) - count(created_at) FROM {t} WHERE user_id = %s AND key_id = %s "
            "AND (expires_at IS NULL OR expires_at > %s)",
            (key.user, key.key_id, now),
        )
        return None if unordered else int(count)

    def _live_page(self, key: PersonKey, now: str, offset: int, limit: int) -> builtins.list[Opened]:
        # Byte order ("C"), as Python compares text; a uuid orders as its lowercase hex text does.
        found = self._rows(
            "SELECT id::text, created_at, sealed FROM {t} WHERE user_id = %s AND key_id = %s "
            'AND (expires_at IS NULL OR expires_at > %s) ORDER BY created_at COLLATE "C", id '
            "LIMIT %s OFFSET %s",
            (key.user, key.key_id, now, limit, offset),
        )
        return open_rows(key, self.collection_name, [(id_, at, bytes(sealed)) for id_, at, sealed in found])

    def _person(self, user: str) -> PersonRows | None:
        """The one user's rows for scoring: their held index if it is current, else their rows
        opened (and held as an index if they have many)."""
        held = self._one_read.held(("scoring", user))
        if held is not None:
            return held
        person = self._held_person(user) if self.held_indexes.holds(user) else None
        if person is None:
            person = self._opened_person(user)
        if person is None:
            self.held_indexes.drop(user)
        self._one_read.hold(("scoring", user), person)
        return person

    def _held_person(self, user: str) -> PersonRows | None:
        found = self._rows(
            f"SELECT k.key_id, k.master, k.wrapped, v.version FROM {KEYS} k "
            "LEFT JOIN {v} v ON v.user_id = k.user_id WHERE k.user_id = %s",
            (user,),
        )
        if not found:
            return None
        key_id, master, wrapped, version = found[0]
        key = self.keyring.unwrap((user, int(key_id), master, bytes(wrapped)))
        scoring = self.held_indexes.open(key, version)
        if scoring is None:
            return None
        return PersonRows(key, scoring, self.embedding_model_dims, None, self._rows_by_id)

    def _opened_person(self, user: str) -> PersonRows | None:
        # One round trip, one snapshot: the person's wrapped key, their version and rows under it.
        found = self._rows(
            f"SELECT k.key_id, k.master, k.wrapped, v.version, t.id, t.created_at, t.sealed FROM {KEYS} k "
            "LEFT JOIN {v} v ON v.user_id = k.user_id "
            "LEFT JOIN {t} t ON t.user_id = k.user_id AND t.key_id = k.key_id WHERE k.user_id = %s",
            (user,),
        )
        if not found:
            return None
        key_id, master, wrapped, version = found[0][:4]
        key = self.keyring.unwrap((user, int(key_id), master, bytes(wrapped)))
        rows = [(str(id_), at, bytes(sealed)) for *_, id_, at, sealed in found if id_ is not None]
        opened = open_rows(key, self.collection_name, rows)
        scoring = scoring_of(key, self.embedding_model_dims, opened)
        self.held_indexes.keep(key, version, scoring)
        return PersonRows(key, scoring, self.embedding_model_dims, opened, self._rows_by_id)

    def _rows_by_id(self, key: PersonKey, ids: builtins.list[str]) -> builtins.list[Opened]:
        found = self._rows(
            "SELECT id::text, created_at, sealed FROM {t} WHERE user_id = %s AND key_id = %s "
            "AND id = ANY(%s::uuid[])",
            (key.user, key.key_id, ids),
        )
        return open_rows(key, self.collection_name, [(id_, at, bytes(sealed)) for id_, at, sealed in found])

    def _bump_versions(
        self, cur: psycopg.Cursor[Any], users: builtins.list[str]
    ) -> dict[str, tuple[Any, int]]:
        """Give each of ``users`` a new random version, inside the write that changes their rows
        (in a fixed order, so two writes of the same people cannot deadlock). Returns each one's
        version before (read under the row's lock, only for people with a held index here; else
        None) and after."""
        changed: dict[str, tuple[Any, int]] = {}
        for user in sorted(set(users)):
            before = None
            if self.held_indexes.holds(user):
                cur.execute(
                    sql.SQL("SELECT version FROM {} WHERE user_id = %s FOR UPDATE").format(self._versions),
                    (user,),
                )
                found = cur.fetchone()
                before = None if found is None else found[0]
            changed[user] = (before, secrets.randbits(63))
        cur.executemany(
            sql.SQL(
                "INSERT INTO {} (user_id, version) VALUES (%s, %s) "
                "ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version"
            ).format(self._versions),
            [(user, after) for user, (_, after) in changed.items()],
        )
        return changed

    def _extend_held(
        self,
        landed: builtins.list[tuple[PersonKey, tuple[Any, ...]]],
        versions: Mapping[str, tuple[Any, Any]],
    ) -> None:
        """Add rows this process just inserted to their people's held indexes. Only from a version
        read under its row lock: with no version row yet, two writers could both start from "none"."""
        for user, (before, after) in versions.items():
            if before is not None and self.held_indexes.holds(user):
                key = next(key for key, _ in landed if key.user == user)
                rows = [(row[0], row[3], row[4]) for k, row in landed if k.user == user]
                self.held_indexes.extend(key, before, after, open_rows(key, self.collection_name, rows))

    def one_read(self) -> AbstractContextManager[None]:
        """A scope in which this thread opens each person's rows once (see :class:`OneRead`)."""
        return self._one_read.scope()

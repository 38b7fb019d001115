"""Cubby's PostgreSQL store: the same sealed rows as the embedded store, in a plain table.

Table ``sealed_<collection>``: ``user_id text``, ``id uuid``, ``key_id bigint``, ``created_at text``
and ``sealed bytea`` - the int8 vector and compact payload, AES-GCM-sealed with the person's key
(:mod:`core.memory.crypto.sealed`) - with a b-tree index on ``user_id``. Nothing else is in clear: no
text for a full-text index, no vector for pgvector. So every read fetches exactly one user's rows
through that index (:func:`core.memory.stores.filters.scoped_user`), opens them and scores them in
numpy, exactly, as the embedded store does; no extension is needed, and the store runs on any
PostgreSQL-compatible engine.

A forget destroys the person's key first (``cubby_keys``, :mod:`core.memory.stores.postgres_keys`):
from then on dead tuples, WAL, replicas and backups of these rows are ciphertext under a key that no
longer exists. An insert locks its key row ``FOR KEY SHARE`` in its own transaction, so it either
commits before the key is deleted (and is erased by the row delete that follows) or finds no key and
inserts nothing. Deletes are followed by a VACUUM, so erased rows stop existing as dead tuples too.
"""

from __future__ import annotations

import builtins
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from core.memory.crypto.keyring import TOMBSTONE_OWNER, Keyring, PersonKey
from core.memory.crypto.sealed import open_row, payload_of, quantize, seal_row, vector_of
from core.memory.stores.filters import UnsupportedFilter, beyond_the_user
from core.memory.stores.person_index import HeldIndexes
from core.memory.stores.postgres_keys import CONNECT_TIMEOUT_SECONDS, KEY_ROW_LOCK, check_reachable
from core.memory.stores.postgres_reads import PostgresPersonReads
from core.memory.stores.sealed_rows import (
    LandedRows,
    OneRead,
    StoredVector,
    oldest_first,
)

log = logging.getLogger(__name__)

_COLLECTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,55}")
_SCHEMA_LOCK = 0x637562_6279  # "cubby": serialises schema creation across processes


def _expiry(payload: Mapping[str, Any]) -> str | None:
    """The payload's expiry for the indexed column; anything but text is no expiry."""
    value = payload.get("expires_at")
    return value if isinstance(value, str) and value else None


def _uuid(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


class PostgresVectorStore(PostgresPersonReads):
    """mem0's ``VectorStoreBase`` contract over sealed rows; the backend sets the keyring."""

    def __init__(
        self,
        collection_name: str,
        connection_string: str,
        embedding_model_dims: int,
        keyring: Keyring | None = None,
        held_indexes: HeldIndexes | None = None,
        **_: object,
    ) -> None:
        if not _COLLECTION_NAME.fullmatch(collection_name):
            raise ValueError("collection names are lowercase letters, digits and underscores")
        options: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "cubby"}
        check_reachable(connection_string)
        self.collection_name = collection_name
        self.embedding_model_dims = embedding_model_dims
        self.connection_pool = ConnectionPool(
            connection_string,
            min_size=1,
            max_size=2,
            kwargs=options,
            name=f"cubby-{collection_name}",
            open=True,
        )
        self._table = sql.Identifier(f"sealed_{collection_name}")
        # One random version per person, replaced with every write of their rows (see person_index).
        self._versions = sql.Identifier(f"versions_{collection_name}")
        self.held_indexes = held_indexes or HeldIndexes(collection_name, embedding_model_dims)
        self._keyring = keyring
        self._one_read = OneRead()
        self._landed = LandedRows()
        self._deleted_since_vacuum = False
        self.create_col()

    def use_keyring(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._seal_rows_kept_in_clear()

    def _seal_rows_kept_in_clear(self) -> None:
        """Seal the rows of a table of the earlier pgvector layout (``<collection>``: ``id``,
        ``vector``, ``payload jsonb``, in clear) and drop it, in one transaction. What PostgreSQL
        kept of those rows below the level of rows (freed space, WAL, backups) stays in clear: see
        docs/backends.md."""
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s AND column_name = 'payload'",
                (self.collection_name,),
            )
            if cur.fetchone() is None:
                return
            old = sql.Identifier(self.collection_name)
            cur.execute(sql.SQL("SELECT id, vector::text, payload FROM {}").format(old))
            found = cur.fetchall()
            payloads = [payload for _, _, payload in found]
            self.keyring.ensure_many([self._owner(payload) for payload in payloads])
            vectors = [[float(x) for x in text.strip("[]").split(",")] for _, text, _ in found]
            rows = self._sealed(vectors, payloads, [id_ for id_, _, _ in found])
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (id, user_id, key_id, created_at, sealed, expires_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
                ).format(self._table),
                [row for _, row in rows],
            )
            self._bump_versions(cur, [key.user for key, _ in rows])
            cur.execute(sql.SQL("DROP TABLE {}").format(old))

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            raise RuntimeError("the store has no keyring yet; the backend sets it before use")
        return self._keyring

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor in one transaction, committed when the block ends without an error."""
        with self.connection_pool.connection() as conn, conn.cursor() as cur:
            yield cur

    def _rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            cur.execute(sql.SQL(statement).format(t=self._table, v=self._versions), params)
            return cur.fetchall()

    # -- schema ----------------------------------------------------------------------------------
    def create_col(self, *_: object, **__: object) -> None:
        index = sql.Identifier(f"sealed_{self.collection_name}_user_id_idx")
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, user_id text NOT NULL, "
                    "key_id bigint NOT NULL, created_at text, sealed bytea NOT NULL)"
                ).format(self._table)
            )
            cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id)").format(index, self._table))
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (user_id text PRIMARY KEY, version bigint NOT NULL)"
                ).format(self._versions)
            )
            # The expiry in clear beside the sealed row (a time, never text): a sweep is an index scan.
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS expires_at text").format(self._table)
            )
            expiry_index = sql.Identifier(f"sealed_{self.collection_name}_expiry_idx")
            cur.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON {} (expires_at) WHERE expires_at IS NOT NULL"
                ).format(expiry_index, self._table)
            )

    def list_cols(self) -> list[str]:
        rows = self._rows("SELECT tablename FROM pg_tables WHERE tablename LIKE 'sealed\\_%%'", ())
        return [name.removeprefix("sealed_") for (name,) in rows]

    def delete_col(self) -> None:
        with self._cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._table))
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._versions))
        self.held_indexes.clear()

    def col_info(self) -> dict[str, Any]:
        [(count,)] = self._rows("SELECT count(*) FROM {t}", ())
        return {"name": self.collection_name, "count": count, "dims": self.embedding_model_dims}

    def reset(self) -> None:
        self.delete_col()
        self.create_col()

    # -- plumbing --------------------------------------------------------------------------------
    @staticmethod
    def _owner(payload: Mapping[str, Any] | None) -> str:
        owner = (payload or {}).get("user_id")
        if (
            not isinstance(owner, str)
            or not owner
            or owner in ("*", TOMBSTONE_OWNER)
            or owner != owner.strip()
        ):
            raise ValueError("every stored row belongs to exactly one user_id")
        return owner

    # -- writes ----------------------------------------------------------------------------------
    def insert(
        self, vectors: list[Any], payloads: list[dict] | None = None, ids: list[str] | None = None
    ) -> None:
        """Seal and insert the rows; a row whose key was destroyed since its write began is dropped
        (see the module docstring for why this check cannot race with a forget)."""
        if payloads is None or ids is None or not (len(vectors) == len(payloads) == len(ids)):
            raise ValueError("insert needs one id and one payload per vector")
        rows = self._sealed(vectors, payloads, ids)
        with self._cursor() as cur:
            alive = {}
            for key, _ in rows:
                if key.key_id not in alive:
                    cur.execute(KEY_ROW_LOCK, (key.user, key.key_id))
                    alive[key.key_id] = cur.fetchone() is not None
            landed = [(key, row) for key, row in rows if alive[key.key_id]]
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (id, user_id, key_id, created_at, sealed, expires_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(self._table),
                [row for _, row in landed],
            )
            versions = self._bump_versions(cur, [key.user for key, _ in landed])
        self._landed.note([str(id_) for id_ in ids], payloads, {str(row[0]) for _, row in landed})
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
            row_id = _uuid(id_)
            if row_id is None:
                raise ValueError("row ids are UUIDs")
            created_at, sealed = seal_row(key, self.collection_name, row_id, quantize(vector, dims), payload)
            rows.append((key, (row_id, key.user, key.key_id, created_at, sealed, _expiry(payload))))
        return rows

    def update(self, vector_id: str, vector: Any = None, payload: dict | None = None) -> None:
        row_id = _uuid(vector_id)
        with self._cursor() as cur:
            cur.execute(
                sql.SQL("SELECT user_id, key_id, created_at, sealed FROM {} WHERE id = %s FOR UPDATE").format(
                    self._table
                ),
                (row_id,),
            )
            found = cur.fetchone() if row_id else None
            key = None if found is None else self.keyring.current(found[0])
            if found is None or key is None or key.key_id != found[1]:
                raise KeyError(f"no vector {vector_id}")
            if payload is not None and self._owner(payload) != found[0]:
                raise ValueError("a row's user_id never changes")
            old = open_row(key, self.collection_name, str(row_id), found[2], bytes(found[3]))
            dims = self.embedding_model_dims
            int8 = vector_of(old, dims) if vector is None else quantize(vector, dims)
            doc = payload if payload is not None else payload_of(old, dims, key.user, found[2])
            created_at, sealed = seal_row(key, self.collection_name, str(row_id), int8, doc)
            cur.execute(
                sql.SQL("UPDATE {} SET created_at = %s, sealed = %s, expires_at = %s WHERE id = %s").format(
                    self._table
                ),
                (created_at, sealed, _expiry(doc), row_id),
            )
            self._bump_versions(cur, [found[0]])
        self._deleted_since_vacuum = True  # the old version is a dead row until vacuumed

    def delete(self, vector_id: str) -> None:
        row_id = _uuid(vector_id)
        if row_id is not None:
            with self._cursor() as cur:
                cur.execute(
                    sql.SQL("DELETE FROM {} WHERE id = %s RETURNING user_id").format(self._table), (row_id,)
                )
                self._bump_versions(cur, [owner for (owner,) in cur.fetchall()])
        self._deleted_since_vacuum = True

    # -- reads -----------------------------------------------------------------------------------
    def get(self, vector_id: str) -> StoredVector | None:
        row_id = _uuid(vector_id)
        if row_id is None:
            return None
        rows = self._rows("SELECT user_id, key_id, created_at, sealed FROM {t} WHERE id = %s", (row_id,))
        if not rows:
            return None
        user, key_id, created_at, sealed = rows[0]
        key = self.keyring.current(user)
        if key is None or key.key_id != key_id:
            return None  # under a destroyed key: it does not exist any more
        plaintext = open_row(key, self.collection_name, row_id, created_at, bytes(sealed))
        return StoredVector(row_id, None, payload_of(plaintext, self.embedding_model_dims, user, created_at))

    def list(self, filters: Mapping | None = None, top_k: int | None = 100) -> list[list[StoredVector]]:
        key, rows, predicate = self._user_rows(filters)
        if key is None:
            return [[]]
        narrowed = predicate if beyond_the_user(filters) else None
        return [oldest_first(key, rows, self.embedding_model_dims, narrowed, top_k)]

    # -- Cubby's own operations (not part of mem0's contract) -------------------------------------
    def count(self, user_id: str, key_id: int | None = None) -> int:
        """The user's rows under their current key (``key_id``, when the caller has just read it)."""
        owner = self._owner({"user_id": user_id})
        key_id = self.keyring.key_id(owner) if key_id is None else key_id
        if key_id is None:
            return 0
        [(count,)] = self._rows(
            "SELECT count(*) FROM {t} WHERE user_id = %s AND key_id = %s", (user_id, key_id)
        )
        return int(count)

    def delete_user(self, user_id: str) -> int:
        """Delete every row of ``user_id``, under any key (a forget deletes the key first)."""
        owner = self._owner({"user_id": user_id})
        self.held_indexes.drop(owner)
        with self._cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE user_id = %s").format(self._versions), (owner,))
            cur.execute(sql.SQL("DELETE FROM {} WHERE user_id = %s").format(self._table), (owner,))
            removed = cur.rowcount
        self._deleted_since_vacuum = self._deleted_since_vacuum or removed > 0
        return removed

    def expired(self, now: str) -> builtins.list[tuple[str, str]]:
        """``(user_id, id)`` of every row whose expiry (stored as :func:`core.records.expiry_text`,
        so it sorts as text) is at or before ``now``, through the partial expiry index."""
        rows = self._rows(
            "SELECT user_id, id::text FROM {t} WHERE expires_at IS NOT NULL AND expires_at <= %s", (now,)
        )
        return [(user, id_) for user, id_ in rows]

    def users_with_prefix(self, prefix: str) -> builtins.list[str]:  # `list` here is the method
        if not isinstance(prefix, str) or not prefix:
            raise UnsupportedFilter("a user prefix must not be empty")
        rows = self._rows("SELECT DISTINCT user_id FROM {t} WHERE starts_with(user_id, %s)", (prefix,))
        return [user for (user,) in rows]

    def checkpoint(self) -> bool:
        """VACUUM the table after deletes, so erased rows stop existing as dead tuples."""
        if not self._deleted_since_vacuum:
            return True
        try:
            with self.connection_pool.connection() as conn:
                conn.autocommit = True  # VACUUM cannot run inside a transaction
                try:
                    for table in (self._table, self._versions):
                        conn.execute(sql.SQL("VACUUM (INDEX_CLEANUP ON) {}").format(table))
                finally:
                    conn.autocommit = False
        except Exception as error:
            log.error("VACUUM after a delete failed: %s; it is retried", type(error).__name__)
            return False
        self._deleted_since_vacuum = False
        return True

    def close(self) -> None:
        self.connection_pool.close()

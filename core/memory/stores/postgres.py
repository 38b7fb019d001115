"""Cubby's PostgreSQL + pgvector store: mem0's pgvector adapter, made exact, indexed and per-user.

mem0 loads this class through its vector-store factory (registered by
:func:`core.memory.backends.postgres_store`, after :func:`core.memory.mem0_setup.import_mem0` has prepared
mem0's environment), so importing mem0 at the top of this module is safe.

What changes against mem0's ``PGVector``, and why:
- no HNSW or DiskANN index: a filtered approximate search silently drops most of one user's rows
  (recall 0.15). Instead an expression index on ``payload->>'user_id'`` finds the user's rows, and
  every search first materialises exactly those rows, then orders them by exact cosine distance. That
  holds even if someone adds an approximate index to the table later;
- no GIN full-text index: it would mix every person's words into one structure, and GIN keeps a
  deleted row's words in its entry tree. Keyword scores (mem0's BM25 signal) are computed over the
  one user's rows instead, as the embedded store does;
- every read names exactly one user (:func:`core.memory.stores.filters.scoped_user`); ``"*"``,
  operators or no user are refused, since mem0's adapter turns ``"*"`` into "the key exists", i.e. every user;
- a row's ``user_id`` never changes, and Cubby's extras (count, erasure, workspace listing, VACUUM
  after deletes) are added for :class:`core.memory.backends.mem0.Mem0Backend`.
"""

from __future__ import annotations

import builtins
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from typing import Any

if "mem0" not in sys.modules:
    # mem0 reads its telemetry switch when first imported; only engine.import_mem0 may do that.
    raise ImportError("core.memory.stores.postgres is loaded by mem0's factory, after engine.import_mem0")

import psycopg
from mem0.vector_stores.pgvector import OutputData, PGVector, _build_filter_conditions
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from core.errors import BackendUnavailable
from core.memory.stores.bm25 import bm25
from core.memory.stores.filters import UnsupportedFilter, compile_filter, scoped_user

log = logging.getLogger(__name__)

_COLLECTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_SCHEMA_LOCK = 0x637562_6279  # "cubby": serialises schema creation across processes
_CONNECT_TIMEOUT_SECONDS = 10


def describe_database(url: str) -> str:
    """``host:port/dbname`` of a connection string, never its password."""
    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "the configured database (CUBBY_DATABASE_URL could not be parsed)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def vector_literal(vector: Any) -> str:
    """pgvector's text form. Far cheaper to send than a float array (0.15 vs 0.8 ms per search), and
    exact: ``str`` of a float round-trips."""
    return "[" + ",".join(map(str, map(float, vector))) + "]"


class PostgresVectorStore(PGVector):
    """mem0's ``PGVector`` with Cubby's guarantees. Table: ``id uuid``, ``vector``, ``payload jsonb``
    (mem0's own layout, so a table mem0 created can be adopted)."""

    def __init__(
        self, collection_name: str, connection_string: str, embedding_model_dims: int, **_: object
    ) -> None:
        if not _COLLECTION_NAME.fullmatch(collection_name):
            raise ValueError("collection names are lowercase letters, digits and underscores")
        options: dict[str, Any] = {"connect_timeout": _CONNECT_TIMEOUT_SECONDS, "application_name": "cubby"}
        try:
            # One plain connection first: a pool would keep retrying a refused connection until
            # its timeout, where this fails at once with the reason.
            psycopg.connect(connection_string, **options).close()
        except Exception as error:
            raise BackendUnavailable(
                f"cannot connect to PostgreSQL at {describe_database(connection_string)} "
                f"({type(error).__name__}); check CUBBY_DATABASE_URL and that the server is running"
            ) from None
        pool = ConnectionPool(
            connection_string,
            min_size=1,
            max_size=2,  # the hub runs one memory call at a time; one spare for VACUUM
            kwargs=options,
            name=f"cubby-{collection_name}",
            open=True,
        )
        super().__init__(
            dbname=None,
            collection_name=collection_name,
            embedding_model_dims=embedding_model_dims,
            user=None,
            password=None,
            host=None,
            port=None,
            diskann=False,
            hnsw=False,
            connection_pool=pool,
        )
        self._deleted_since_vacuum = False
        self.create_col()
        self._collection_ensured = True

    # -- schema ----------------------------------------------------------------------------------
    def _table(self) -> sql.Identifier:
        return sql.Identifier(self.collection_name)

    def create_col(self, *_: object, **__: object) -> None:
        user_index = sql.Identifier(f"{self.collection_name}_user_id_idx")
        with self._get_cursor(commit=True) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            if cur.fetchone() is None:
                cur.execute("CREATE EXTENSION vector")  # needs the privilege; see the README
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, vector vector({}), payload jsonb)"
                ).format(self._table(), sql.Literal(self.embedding_model_dims))
            )
            cur.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ((payload->>'user_id'))").format(
                    user_index, self._table()
                )
            )
            cur.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON {} ((payload->>'expires_at'))"
                    " WHERE payload->>'expires_at' IS NOT NULL"
                ).format(sql.Identifier(f"{self.collection_name}_expiry_idx"), self._table())
            )

    # -- plumbing --------------------------------------------------------------------------------
    @staticmethod
    def _owner(payload: Mapping[str, Any] | None) -> str:
        owner = (payload or {}).get("user_id")
        if not isinstance(owner, str) or not owner or owner == "*" or owner != owner.strip():
            raise ValueError("every stored row belongs to exactly one user_id")
        return owner

    def _scoped(self, filters: Mapping[str, Any] | None) -> tuple[str, sql.Composable, list[Any], Any]:
        """The one user ``filters`` names, the WHERE clause and parameters of all its conditions, and
        a predicate that re-checks every row in Python (so a condition SQL got wrong cannot widen)."""
        user = scoped_user(filters)
        predicate = compile_filter(filters)  # raises on anything it cannot evaluate exactly
        try:
            conditions, params = _build_filter_conditions(dict(filters or {}))
        except (ValueError, TypeError) as error:
            raise UnsupportedFilter(str(error)) from None
        return user, sql.SQL("WHERE " + " AND ".join(conditions)), params, predicate

    def _user_rows_cte(self) -> sql.Composable:
        # MATERIALIZED keeps the planner from pushing the ORDER BY into any approximate vector index:
        # first exactly this user's rows (through the user_id index), then exact ordering.
        return sql.SQL(
            "WITH mine AS MATERIALIZED (SELECT id, vector, payload FROM {} WHERE payload->>'user_id' = %s) "
        ).format(self._table())

    # -- writes ----------------------------------------------------------------------------------
    def insert(
        self, vectors: list[Any], payloads: list[dict] | None = None, ids: list[str] | None = None
    ) -> None:
        if payloads is None or ids is None or not (len(vectors) == len(payloads) == len(ids)):
            raise ValueError("insert needs one id and one payload per vector")
        rows = []
        for vector, payload, id_ in zip(vectors, payloads, ids, strict=True):
            self._owner(payload)
            rows.append((str(id_), vector_literal(vector), Jsonb(payload)))
        with self._get_cursor(commit=True) as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {} (id, vector, payload) VALUES (%s, %s::vector, %s)").format(
                    self._table()
                ),
                rows,
            )

    def update(self, vector_id: str, vector: list[float] | None = None, payload: dict | None = None) -> None:
        with self._get_cursor(commit=True) as cur:
            cur.execute(
                sql.SQL("SELECT payload->>'user_id' FROM {} WHERE id = %s FOR UPDATE").format(self._table()),
                (str(vector_id),),
            )
            found = cur.fetchone()
            if found is None:
                raise KeyError(f"no vector {vector_id}")
            if payload is not None:
                if self._owner(payload) != found[0]:
                    raise ValueError("a row's user_id never changes")
                cur.execute(
                    sql.SQL("UPDATE {} SET payload = %s WHERE id = %s").format(self._table()),
                    (Jsonb(payload), str(vector_id)),
                )
            if vector is not None:
                cur.execute(
                    sql.SQL("UPDATE {} SET vector = %s::vector WHERE id = %s").format(self._table()),
                    (vector_literal(vector), str(vector_id)),
                )
        self._deleted_since_vacuum = True  # the old version is a dead row until vacuumed

    def delete(self, vector_id: str) -> None:
        super().delete(vector_id)
        self._deleted_since_vacuum = True

    # -- reads -----------------------------------------------------------------------------------
    def get(self, vector_id: str) -> OutputData | None:
        try:
            uuid.UUID(str(vector_id))
        except ValueError:
            return None
        return super().get(str(vector_id))

    def search_statement(
        self, vectors: list[float], top_k: int | None, filters: Mapping[str, Any] | None
    ) -> tuple[sql.Composable, tuple[Any, ...], Any]:
        """The SQL, parameters and row re-check of :meth:`search` (also what the tests EXPLAIN)."""
        user, where, params, predicate = self._scoped(filters)
        statement = self._user_rows_cte() + sql.SQL(
            "SELECT id, vector <=> %s::vector AS distance, payload FROM mine {} "
            "ORDER BY distance, id LIMIT %s"
        ).format(where)
        return statement, (user, vector_literal(vectors), *params, int(top_k or 0)), predicate

    def search(
        self, query: str, vectors: list[float], top_k: int | None = 5, filters: dict | None = None
    ) -> list[OutputData]:
        statement, params, predicate = self.search_statement(vectors, top_k, filters)
        with self._get_cursor() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall()
        return [
            OutputData(id=str(id_), score=max(0.0, 1.0 - float(distance)), payload=payload)
            for id_, distance, payload in rows
            if predicate(payload)
        ]

    def keyword_search(self, query: str, top_k: int = 5, filters: dict | None = None) -> list[OutputData]:
        """Okapi BM25 over the one user's rows that pass ``filters`` (no shared full-text index)."""
        documents = [(hit.id or "", hit.payload or {}) for hit in self.list(filters=filters, top_k=None)[0]]
        return [
            OutputData(id=id_, score=score, payload=payload)
            for id_, score, payload in bm25(query, documents)[: max(int(top_k), 0)]
        ]

    def list(self, filters: dict | None = None, top_k: int | None = 100) -> list[list[OutputData]]:
        user, where, params, predicate = self._scoped(filters)
        statement = self._user_rows_cte() + sql.SQL(
            "SELECT id, payload FROM mine {} ORDER BY payload->>'created_at', id LIMIT %s"
        ).format(where)
        limit = None if top_k is None else max(int(top_k), 0)
        with self._get_cursor() as cur:
            cur.execute(statement, (user, *params, limit))
            rows = cur.fetchall()
        return [
            [
                OutputData(id=str(id_), score=None, payload=payload)
                for id_, payload in rows
                if predicate(payload)
            ]
        ]

    # -- Cubby's own operations (not part of mem0's contract) -------------------------------------
    def count(self, user_id: str) -> int:
        with self._get_cursor() as cur:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE payload->>'user_id' = %s").format(self._table()),
                (self._owner({"user_id": user_id}),),
            )
            return int(cur.fetchone()[0])

    def delete_user(self, user_id: str) -> int:
        with self._get_cursor(commit=True) as cur:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE payload->>'user_id' = %s").format(self._table()),
                (self._owner({"user_id": user_id}),),
            )
            removed = cur.rowcount
        self._deleted_since_vacuum = self._deleted_since_vacuum or removed > 0
        return removed

    def expired(self, now: str) -> builtins.list[tuple[str, str]]:
        """``(user_id, id)`` of every row whose expiry (stored as :func:`core.records.expiry_text`,
        so it sorts as text) is at or before ``now``, through the partial expiry index."""
        with self._get_cursor() as cur:
            cur.execute(
                sql.SQL(
                    "SELECT payload->>'user_id', id::text FROM {}"
                    " WHERE payload->>'expires_at' IS NOT NULL AND payload->>'expires_at' <= %s"
                ).format(self._table()),
                (now,),
            )
            return [(user, id_) for user, id_ in cur.fetchall()]

    def users_with_prefix(self, prefix: str) -> builtins.list[str]:  # `list` here is the method
        if not isinstance(prefix, str) or not prefix:
            raise UnsupportedFilter("a user prefix must not be empty")
        # A full scan: this only runs when a whole workspace is erased.
        with self._get_cursor() as cur:
            cur.execute(
                sql.SQL(
                    "SELECT DISTINCT payload->>'user_id' FROM {} WHERE starts_with(payload->>'user_id', %s)"
                ).format(self._table()),
                (prefix,),
            )
            return [user for (user,) in cur.fetchall()]

    def checkpoint(self) -> bool:
        """VACUUM the table after deletes, so erased rows stop existing as dead tuples (heap and
        index entries). VACUUM does not zero the freed bytes; the README says what that leaves."""
        if not self._deleted_since_vacuum:
            return True
        try:
            with self.connection_pool.connection() as conn:
                conn.autocommit = True  # VACUUM cannot run inside a transaction
                try:
                    conn.execute(sql.SQL("VACUUM (INDEX_CLEANUP ON) {}").format(self._table()))
                finally:
                    conn.autocommit = False
        except Exception as error:
            log.error(
                "VACUUM after a delete failed: %s; it is retried on the next write", type(error).__name__
            )
            return False
        self._deleted_since_vacuum = False
        return True

    def close(self) -> None:
        self.connection_pool.close()

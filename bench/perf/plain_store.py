"""Today's unencrypted store, kept in bench only as the baseline of the sealed one: float32 vectors and
the full payload JSON in clear, the layout Cubby used before rows were sealed with per-person keys.
``bench.sealed`` runs the same workload through ``ScopedMemory`` on both in one run."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.memory.crypto.key_table import checkpoint_truncate
from core.memory.crypto.keyring import PersonKey, WriteStart
from core.memory.stores.bm25 import bm25
from core.memory.stores.filters import compile_filter, scoped_user
from core.memory.stores.sealed_rows import StoredVector
from core.memory.stores.sqlite import connect
from core.storage import write_transaction

# What a write of the baseline is "pinned" to: nothing is ever sealed with it.
_NEVER_USED = AESGCM(bytes(32))


class _NoKeyTable:
    def unflushed(self) -> list[str]:
        return []

    def checkpoint(self) -> bool:
        return True

    def mark_unflushed(self, name: str) -> None: ...
    def clear_unflushed(self, name: str) -> None: ...
    def close(self) -> None: ...


class NoKeyring:
    """The baseline has no keys: nothing to capture when a write begins, nothing to destroy."""

    table = _NoKeyTable()
    created = destroyed = 0

    def forgotten_since(self, user: str, began: float) -> bool:
        return False

    def before_write(self, user: str, began: float | None) -> WriteStart:
        return WriteStart(False, False, PersonKey(user, 0, _NEVER_USED))

    def ensure(self, user: str) -> None:
        return None

    @contextmanager
    def pinned(self, user: str, key: object) -> Iterator[None]:
        yield

    def destroy(self, user: str) -> bool:
        return False

    def close(self) -> None: ...


_COLLECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")


class PlainSQLiteStore:
    """The store as it was: mem0's contract, rows in clear."""

    def __init__(self, collection_name: str, path: str, embedding_model_dims: int, **_: object) -> None:
        if not _COLLECTION_NAME.fullmatch(collection_name):
            raise ValueError("collection names are letters, digits and underscores")
        self.collection_name = collection_name
        self.embedding_model_dims = embedding_model_dims
        self.path = Path(path)
        self._table = f'"vec_{collection_name}"'
        self._lock = threading.RLock()
        self._db = connect(self.path)
        self.create_col(collection_name, embedding_model_dims, "cosine")

    # -- plumbing --------------------------------------------------------------------------------
    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db, self._lock)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _blob(self, vector: object) -> bytes:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != self.embedding_model_dims or not np.all(np.isfinite(array)):
            raise ValueError(f"vectors must have {self.embedding_model_dims} finite components")
        return array.tobytes()

    @staticmethod
    def _owner(payload: Mapping[str, Any]) -> str:
        owner = payload.get("user_id")
        if not isinstance(owner, str) or not owner:
            raise ValueError("every stored row belongs to exactly one user_id")
        return owner

    def _user_rows(self, filters: Mapping[str, Any] | None) -> tuple[list[tuple[Any, ...]], Any]:
        user = scoped_user(filters)
        predicate = compile_filter(filters)
        rows = self._query(f"SELECT id, vector, payload FROM {self._table} WHERE user_id = ?", (user,))
        return rows, predicate

    # -- collections -----------------------------------------------------------------------------
    def create_col(self, name: str, vector_size: int, distance: str = "cosine") -> None:
        with self._lock:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (user_id TEXT NOT NULL, id TEXT NOT NULL, "
                "vector BLOB NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (user_id, id)) WITHOUT ROWID"
            )
            self._db.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "vec_{self.collection_name}_id" ON {self._table}(id)'
            )

    def list_cols(self) -> list[str]:
        rows = self._query(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'vec\\_%' ESCAPE '\\'"
        )
        return [name.removeprefix("vec_") for (name,) in rows]

    def delete_col(self) -> None:
        with self._lock:
            self._db.execute(f"DROP TABLE IF EXISTS {self._table}")

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
        if payloads is None or ids is None or not (len(vectors) == len(payloads) == len(ids)):
            raise ValueError("insert needs one id and one payload per vector")
        rows = [
            (
                str(id_),
                self._owner(payload),
                self._blob(vector),
                json.dumps(payload, ensure_ascii=False, default=str),
            )
            for vector, payload, id_ in zip(vectors, payloads, ids, strict=True)
        ]
        with self._write() as db:
            db.executemany(
                f"INSERT INTO {self._table} (id, user_id, vector, payload) VALUES (?, ?, ?, ?)", rows
            )

    def update(self, vector_id: str, vector: Any = None, payload: dict | None = None) -> None:
        with self._write() as db:
            found = db.execute(
                f"SELECT user_id FROM {self._table} WHERE id = ?", (str(vector_id),)
            ).fetchone()
            if found is None:
                raise KeyError(f"no vector {vector_id}")
            if payload is not None:
                if self._owner(payload) != found[0]:
                    raise ValueError("a row's user_id never changes")
                db.execute(
                    f"UPDATE {self._table} SET payload = ? WHERE id = ?",
                    (json.dumps(payload, ensure_ascii=False, default=str), str(vector_id)),
                )
            if vector is not None:
                db.execute(
                    f"UPDATE {self._table} SET vector = ? WHERE id = ?", (self._blob(vector), str(vector_id))
                )

    def delete(self, vector_id: str) -> None:
        with self._write() as db:
            db.execute(f"DELETE FROM {self._table} WHERE id = ?", (str(vector_id),))

    # -- reads -----------------------------------------------------------------------------------
    def get(self, vector_id: str) -> StoredVector | None:
        rows = self._query(f"SELECT id, payload FROM {self._table} WHERE id = ?", (str(vector_id),))
        if not rows:
            return None
        return StoredVector(rows[0][0], None, json.loads(rows[0][1]))

    def search(
        self, query: str, vectors: Any, top_k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> list[StoredVector]:
        rows, predicate = self._user_rows(filters)
        if not rows or top_k <= 0:
            return []
        probe = np.asarray(vectors, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(probe))
        if probe.shape[0] != self.embedding_model_dims or not math.isfinite(norm) or norm == 0.0:
            raise ValueError(
                f"query vectors must have {self.embedding_model_dims} finite, non-zero components"
            )
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        scores = matrix.reshape(len(rows), self.embedding_model_dims) @ (probe / norm)
        hits: list[StoredVector] = []
        # Payloads are parsed best-first and only until top_k rows pass every filter.
        for index in np.argsort(-scores, kind="stable"):
            payload = json.loads(rows[index][2])
            if predicate(payload):
                hits.append(StoredVector(rows[index][0], float(scores[index]), payload))
                if len(hits) == top_k:
                    break
        return hits

    def search_batch(
        self,
        queries: list[str],
        vectors_list: list[Any],
        top_k: int = 1,
        filters: Mapping[str, Any] | None = None,
    ) -> list[list[StoredVector]]:
        return [
            self.search(q, v, top_k=top_k, filters=filters)
            for q, v in zip(queries, vectors_list, strict=True)
        ]

    def keyword_search(
        self, query: str, top_k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> list[StoredVector]:
        """Okapi BM25 over the one user's rows that pass ``filters``."""
        rows, predicate = self._user_rows(filters)
        if top_k <= 0:
            return []
        documents = [(id_, payload) for id_, _, raw in rows if predicate(payload := json.loads(raw))]
        return [StoredVector(id_, score, payload) for id_, score, payload in bm25(query, documents)[:top_k]]

    def list(
        self, filters: Mapping[str, Any] | None = None, top_k: int | None = None
    ) -> list[list[StoredVector]]:
        """One user's rows that pass ``filters``, oldest first."""
        rows, predicate = self._user_rows(filters)
        limit = len(rows) if top_k is None else max(int(top_k), 0)
        payloads = ((id_, json.loads(raw)) for id_, _, raw in rows)
        listed = [StoredVector(id_, None, payload) for id_, payload in payloads if predicate(payload)]
        listed.sort(key=lambda row: (str(row.payload.get("created_at", "")), row.id))
        return [listed[:limit]]

    # -- Cubby's own operations (not part of mem0's contract) -------------------------------------
    def count(self, user_id: str) -> int:
        return self._query(f"SELECT count(*) FROM {self._table} WHERE user_id = ?", (user_id,))[0][0]

    def delete_user(self, user_id: str) -> int:
        with self._write() as db:
            return db.execute(f"DELETE FROM {self._table} WHERE user_id = ?", (user_id,)).rowcount

    def users_with_prefix(self, prefix: str) -> list[str]:
        past_prefix = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._query(
            f"SELECT DISTINCT user_id FROM {self._table} WHERE user_id >= ? AND user_id < ?",
            (prefix, past_prefix),
        )
        return [user for (user,) in rows]

    def use_keyring(self, keyring: object) -> None:
        """Rows are in clear; there is nothing to seal them with."""

    def checkpoint(self, attempts: int = 10) -> bool:
        with self._lock:
            return checkpoint_truncate(self._db, attempts)

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""The key table on PostgreSQL: ``cubby_keys`` (wrapped person keys), ``cubby_tombstones`` and
``cubby_unflushed``, in the same database as the memories, so every worker on every machine shares
them. Same contract as :class:`core.memory.crypto.key_table.SQLiteKeyTable`.

The forget barrier needs the key check and the row insert in one transaction: the store locks the
key row ``FOR KEY SHARE`` while it inserts (:data:`KEY_ROW_LOCK`), so a forget's key ``DELETE`` waits
for that insert to commit, and the forget's row delete, which comes after, then sees and erases it.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from core.errors import BackendUnavailable
from core.memory.crypto.key_table import WrappedRow, WriteState

CONNECT_TIMEOUT_SECONDS = 10
KEYS = "cubby_keys"
KEY_ROW_LOCK = f"SELECT 1 FROM {KEYS} WHERE user_id = %s AND key_id = %s FOR KEY SHARE"
_SCHEMA_LOCK = 0x637562_6B79  # serialises schema creation across processes
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {KEYS} (user_id text PRIMARY KEY, key_id bigint NOT NULL UNIQUE, "
    "master text NOT NULL, wrapped bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cubby_tombstones (tag bytea PRIMARY KEY, at double precision NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cubby_unflushed (name text PRIMARY KEY, since double precision NOT NULL)",
)


def describe_database(url: str) -> str:
    """``host:port/dbname`` of a connection string, never its password."""
    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "the configured database (CUBBY_DATABASE_URL could not be parsed)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def check_reachable(url: str) -> None:
    """One plain connection: a pool would keep retrying a refused connection until its timeout,
    where this fails at once with the reason (and never the password)."""
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
    except Exception as error:
        raise BackendUnavailable(
            f"cannot connect to PostgreSQL at {describe_database(url)} "
            f"({type(error).__name__}); check CUBBY_DATABASE_URL and that the server is running"
        ) from None


class PostgresKeyTable:
    def __init__(self, url: str) -> None:
        check_reachable(url)
        self._url = url
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=2,
            kwargs={"application_name": "cubby-keys"},
            name="cubby-keys",
            open=True,
        )
        self._deleted = False
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                conn.execute(statement)

    def _all(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(statement, params).fetchall()

    def _do(self, statement: str, params: tuple[Any, ...] = ()) -> int:
        with self.pool.connection() as conn:
            return conn.execute(statement, params).rowcount

    def get(self, user: str) -> WrappedRow | None:
        rows = self._all(f"SELECT user_id, key_id, master, wrapped FROM {KEYS} WHERE user_id = %s", (user,))
        return None if not rows else (rows[0][0], int(rows[0][1]), rows[0][2], bytes(rows[0][3]))

    def insert_if_absent(self, row: WrappedRow) -> WrappedRow:
        self._do(f"INSERT INTO {KEYS} VALUES (%s, %s, %s, %s) ON CONFLICT (user_id) DO NOTHING", row)
        found = self.get(row[0])
        assert found is not None
        return found

    def insert_many_if_absent(self, rows: list[WrappedRow]) -> None:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {KEYS} VALUES (%s, %s, %s, %s) ON CONFLICT (user_id) DO NOTHING", rows
            )

    def alive(self, user: str, key_id: int) -> bool:
        return bool(self._all(f"SELECT 1 FROM {KEYS} WHERE user_id = %s AND key_id = %s", (user, key_id)))

    def delete(self, user: str) -> bool:
        removed = self._do(f"DELETE FROM {KEYS} WHERE user_id = %s", (user,)) > 0
        self._deleted = self._deleted or removed
        return removed

    def all_rows(self) -> list[WrappedRow]:
        rows = self._all(f"SELECT user_id, key_id, master, wrapped FROM {KEYS}")
        return [(u, int(k), m, bytes(w)) for u, k, m, w in rows]

    def replace_all(self, rows: list[WrappedRow]) -> None:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                f"UPDATE {KEYS} SET master = %s, wrapped = %s WHERE user_id = %s AND key_id = %s",
                [(master, wrapped, user, key_id) for user, key_id, master, wrapped in rows],
            )
        self._deleted = True  # the old versions are dead tuples until vacuumed

    def add_tombstone(self, tag: bytes, at: float, prune_before: float) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO cubby_tombstones VALUES (%s, %s) ON CONFLICT (tag) DO UPDATE SET at = %s",
                (tag, at, at),
            )
            conn.execute("DELETE FROM cubby_tombstones WHERE at < %s", (prune_before,))

    def tombstone(self, tag: bytes) -> float | None:
        rows = self._all("SELECT at FROM cubby_tombstones WHERE tag = %s", (tag,))
        return None if not rows else float(rows[0][0])

    def before_write(self, user: str, tag: bytes) -> WriteState:
        [(at, pending, *key)] = self._all(
            "SELECT (SELECT at FROM cubby_tombstones WHERE tag = %s), "
            "EXISTS (SELECT 1 FROM cubby_unflushed), "
            f"k.user_id, k.key_id, k.master, k.wrapped FROM (SELECT 1) AS one LEFT JOIN {KEYS} k "
            "ON k.user_id = %s",
            (tag, user),
        )
        found = None if key[0] is None else (key[0], int(key[1]), key[2], bytes(key[3]))
        return (None if at is None else float(at), bool(pending), found)

    def mark_unflushed(self, name: str) -> None:
        self._do("INSERT INTO cubby_unflushed VALUES (%s, %s) ON CONFLICT DO NOTHING", (name, time.time()))

    def unflushed(self) -> list[str]:
        return [name for (name,) in self._all("SELECT name FROM cubby_unflushed ORDER BY name")]

    def clear_unflushed(self, name: str) -> None:
        self._do("DELETE FROM cubby_unflushed WHERE name = %s", (name,))

    def checkpoint(self) -> bool:
        """VACUUM the key table after a key was deleted, so the wrapped key stops existing as a dead
        tuple (the bytes stay in freed page space and old WAL, useless without the master key)."""
        if not self._deleted:
            return True
        try:
            with psycopg.connect(self._url, autocommit=True) as conn:
                conn.execute(f"VACUUM {KEYS}")
        except psycopg.Error:
            return False
        self._deleted = False
        return True

    def close(self) -> None:
        self.pool.close()

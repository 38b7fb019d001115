"""Shared records in PostgreSQL (``CUBBY_BACKEND=postgres``), for Cubby workers on any number of machines.

Expiry is measured by the database's clock, so workers whose clocks disagree still agree on what has
expired. Each call is one autocommitted statement; an ``INSERT ... ON CONFLICT`` that inserts (or
takes over an expired record) reports one row, so of workers racing for a key exactly one wins.
The pool connects on first use; a refused connection fails at once with the reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from core.errors import BackendUnavailable

_SCHEMA_LOCK = 0x637562_6279_01  # serialises creating the table across workers
_CONNECT_TIMEOUT_SECONDS = 10
_NOW = "extract(epoch FROM clock_timestamp())"
_LIVE = f"(expires_at IS NULL OR expires_at > {_NOW})"
_INSERT = (
    "INSERT INTO cubby_shared_records (namespace, key, value, expires_at) "
    f"VALUES (%s, %s, %s, {_NOW} + %s) "
    "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
_KEEP_LIVE = (
    f" WHERE cubby_shared_records.expires_at IS NOT NULL AND cubby_shared_records.expires_at <= {_NOW}"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cubby_shared_records ("
    " namespace text NOT NULL, key text NOT NULL, value bytea, expires_at double precision,"
    " PRIMARY KEY (namespace, key))",
    "CREATE INDEX IF NOT EXISTS cubby_shared_records_expiry ON cubby_shared_records (expires_at)"
    " WHERE expires_at IS NOT NULL",
)


def _where(url: str) -> str:
    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "the configured database"
    return f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


class PostgresTable:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()

    async def _ready(self) -> AsyncConnectionPool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await self._open()
        return self._pool

    async def _open(self) -> AsyncConnectionPool:
        options: dict[str, Any] = {"connect_timeout": _CONNECT_TIMEOUT_SECONDS, "application_name": "cubby"}
        try:
            # One plain connection first, which also creates the table: a pool would keep retrying a
            # refused connection until its timeout, where this fails at once with the reason.
            conn = await psycopg.AsyncConnection.connect(self._url, **options)
            async with conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    await conn.execute(statement)
        except psycopg.Error as error:
            raise BackendUnavailable(
                f"cannot use PostgreSQL at {_where(self._url)} for shared state ({type(error).__name__}); "
                "check CUBBY_DATABASE_URL and that the server is running"
            ) from None
        pool = AsyncConnectionPool(
            self._url, min_size=1, max_size=4, kwargs={**options, "autocommit": True}, open=False
        )
        await pool.open()
        return pool

    async def _execute(self, statement: str, params: tuple[Any, ...]) -> psycopg.AsyncCursor[Any]:
        pool = await self._ready()
        async with pool.connection() as conn:
            cursor = conn.cursor()
            await cursor.execute(statement, params)  # built from constants
            return cursor

    async def insert(
        self, namespace: str, key: str, value: bytes | None, ttl_seconds: float | None, replace: bool
    ) -> bool:
        statement = _INSERT if replace else _INSERT + _KEEP_LIVE
        cursor = await self._execute(statement, (namespace, key, value, ttl_seconds))
        return cursor.rowcount == 1

    async def select(self, namespace: str, key: str) -> bytes | None:
        pool = await self._ready()
        async with pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT value FROM cubby_shared_records WHERE namespace = %s AND key = %s AND {_LIVE}",
                (namespace, key),
            )
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    async def pop(self, namespace: str, key: str) -> tuple[bool, bytes | None]:
        pool = await self._ready()
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM cubby_shared_records WHERE namespace = %s AND key = %s "
                f"RETURNING value, {_LIVE}",
                (namespace, key),
            )
            row = await cursor.fetchone()
        if row is None or not row[1]:
            return False, None
        return True, None if row[0] is None else bytes(row[0])

    async def delete(self, namespace: str, key: str, prefix: bool) -> int:
        if prefix:
            statement = "DELETE FROM cubby_shared_records WHERE namespace = %s AND left(key, %s) = %s"
            cursor = await self._execute(statement, (namespace, len(key), key))
        else:
            statement = "DELETE FROM cubby_shared_records WHERE namespace = %s AND key = %s"
            cursor = await self._execute(statement, (namespace, key))
        return cursor.rowcount

    async def purge_expired(self) -> int:
        cursor = await self._execute(f"DELETE FROM cubby_shared_records WHERE expires_at <= {_NOW}", ())
        return cursor.rowcount

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

"""State that every Cubby worker must agree on, kept where all of them can reach it.

Several workers behind one load balancer (on one machine or many) must share three things a single
process could keep to itself: which deliveries of an event were already handled, the one-time
states of OAuth installs in progress, and the installations themselves. :class:`SharedState` holds
them as named records in one table of the shared backend:

- the embedded backend (and the hosted one, whose memories are elsewhere): ``shared.sqlite3`` in the
  data dir, for any number of processes on that machine;
- ``CUBBY_BACKEND=postgres``: a table in that database, for any number of machines.

Records are ``(namespace, key) -> value`` with an optional expiry. Every value is sealed with the
:class:`~core.secrets_box.SecretBox` before it leaves the process, bound to its namespace and key.
A *claim* is a record without a value: :meth:`SharedState.claim` is true for exactly one caller,
however many workers race, until the claim expires.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from core.config import Settings
from core.secrets_box import SecretBox, open_box

log = logging.getLogger(__name__)

_MAX_NAME_CHARS = 512
_PURGE_EVERY_SECONDS = 60.0


class Table(Protocol):
    """One backend's table of records. ``ttl_seconds=None`` never expires; expired records are
    treated as absent by every read and replaced by every write."""

    async def insert(
        self, namespace: str, key: str, value: bytes | None, ttl_seconds: float | None, replace: bool
    ) -> bool: ...

    async def select(self, namespace: str, key: str) -> bytes | None: ...

    async def pop(self, namespace: str, key: str) -> tuple[bool, bytes | None]: ...

    async def delete(self, namespace: str, key: str, prefix: bool) -> int: ...

    async def purge_expired(self) -> int: ...

    async def close(self) -> None: ...


def _check_name(namespace: str, key: str) -> None:
    for name in (namespace, key):
        if not isinstance(name, str) or not name or len(name) > _MAX_NAME_CHARS or "\0" in name:
            raise ValueError("namespaces and keys are non-empty strings of at most 512 characters")


def _context(namespace: str, key: str) -> bytes:
    return f"{namespace}\0{key}".encode()


class SharedState:
    def __init__(self, table: Table, box: SecretBox) -> None:
        self._table = table
        self._box = box
        self._last_purge = time.monotonic()

    async def claim(self, namespace: str, key: str, *, ttl_seconds: float) -> bool:
        """True for the first caller (in any process) until ``ttl_seconds`` have passed."""
        _check_name(namespace, key)
        if ttl_seconds <= 0:
            raise ValueError("a claim needs a positive lifetime")
        await self._purge_now_and_then()
        return await self._table.insert(namespace, key, None, ttl_seconds, False)

    async def put(
        self,
        namespace: str,
        key: str,
        value: bytes,
        *,
        ttl_seconds: float | None = None,
        replace: bool = True,
    ) -> bool:
        """Store ``value`` (sealed). With ``replace=False``, a live record under ``key`` is kept and
        False returned."""
        _check_name(namespace, key)
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ValueError("a record's lifetime is positive, or None for no expiry")
        sealed = self._box.seal(value, context=_context(namespace, key))
        await self._purge_now_and_then()
        return await self._table.insert(namespace, key, sealed, ttl_seconds, replace)

    async def get(self, namespace: str, key: str) -> bytes | None:
        """The value under ``key``, or None if there is none (or it cannot be opened with this key)."""
        _check_name(namespace, key)
        return self._open(namespace, key, await self._table.select(namespace, key))

    async def take(self, namespace: str, key: str) -> bytes | None:
        """Remove the record and return its value: of several workers taking one key, one gets it."""
        _check_name(namespace, key)
        found, sealed = await self._table.pop(namespace, key)
        return self._open(namespace, key, sealed) if found else None

    async def delete(self, namespace: str, key: str, *, prefix: bool = False) -> int:
        """Remove the record under ``key`` (every record whose key starts with it, with ``prefix``)."""
        _check_name(namespace, key)
        return await self._table.delete(namespace, key, prefix)

    async def close(self) -> None:
        await self._table.close()

    def _open(self, namespace: str, key: str, sealed: bytes | None) -> bytes | None:
        if sealed is None:
            return None
        try:
            return self._box.open(sealed, context=_context(namespace, key))
        except ValueError:
            log.warning(
                "a shared %s record does not open with this worker's key: every worker needs the same "
                "CUBBY_MASTER_KEY (or the same secrets.key in its data dir)",
                namespace,
            )
            return None

    async def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_purge >= _PURGE_EVERY_SECONDS:
            self._last_purge = now
            await self._table.purge_expired()


def open_shared_state(settings: Settings) -> SharedState:
    """The shared state of ``settings``' backend. Connections open on first use."""
    box = open_box(settings)
    if settings.backend == "postgres":
        from core.shared_state.postgres import PostgresTable

        assert settings.database_url is not None  # Settings refuses postgres without it
        return SharedState(PostgresTable(settings.database_url.get_secret_value()), box)
    from core.shared_state.sqlite import SqliteTable

    return SharedState(SqliteTable(settings.data_dir / "shared.sqlite3"), box)

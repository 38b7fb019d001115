"""Choosing the memory backend from ``settings.backend``.

- ``embedded``: mem0 over Cubby's SQLite store in the data dir (one machine, several processes);
- ``postgres``: mem0 over PostgreSQL (:mod:`core.memory.stores.postgres`; sealed rows in a plain
  table, no pgvector needed), shared by any number of Cubby processes on any number of machines;
- ``hosted``: mem0's hosted platform through its async client (:mod:`core.memory.backends.hosted`).

The first two are the same :class:`Mem0Backend` over a different vector store, so every guarantee
that lives in Cubby's code (owner checks, one-user filters, no history) is the same code; it is
synchronous, and :class:`ThreadedBackend` puts it behind the async :class:`Backend` contract.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.config import ConfigError, Settings
from core.memory.backends.hosted import open_hosted_backend
from core.memory.backends.mem0 import Mem0Backend
from core.memory.backends.protocol import Backend
from core.memory.backends.threaded import ThreadedBackend
from core.memory.crypto import Keyring, KeyUnavailable, load_master_key
from core.memory.crypto.key_table import KeyTable, SQLiteKeyTable
from core.memory.crypto.rotation import finish_interrupted_rotation, rotate
from core.memory.mem0_setup import COLLECTION, build_memory, dimensions, embedded_store, import_mem0
from core.memory.models import load_in_background
from core.memory.resident import RESIDENT
from core.memory.stores.model_stamp import require_model
from core.storage import private_dir

_POSTGRES_PROVIDER = "cubby_postgres"

__all__ = ["Backend", "ThreadedBackend", "open_backend", "open_keyring", "rotate_master_key"]


class PostgresStoreConfig(BaseModel):
    """What mem0 passes to :class:`core.memory.stores.postgres.PostgresVectorStore` (mem0 copies it, renamed,
    for its entity store)."""

    collection_name: str
    connection_string: str
    embedding_model_dims: int


def postgres_store(settings: Settings) -> tuple[str, PostgresStoreConfig]:
    """Register Cubby's PostgreSQL store with mem0 and describe it for :func:`build_memory`."""
    if importlib.util.find_spec("psycopg") is None or importlib.util.find_spec("psycopg_pool") is None:
        raise ConfigError("CUBBY_BACKEND=postgres needs psycopg: pip install 'cubby[postgres]'")
    assert settings.database_url is not None  # Settings refuses postgres without it
    import_mem0(settings)
    from mem0.utils.factory import VectorStoreFactory

    VectorStoreFactory.provider_to_class[_POSTGRES_PROVIDER] = (
        "core.memory.stores.postgres.PostgresVectorStore"
    )
    private_dir(settings.data_dir)  # mem0 still keeps its config.json there
    return _POSTGRES_PROVIDER, PostgresStoreConfig(
        collection_name=COLLECTION,
        connection_string=settings.database_url.get_secret_value(),
        embedding_model_dims=dimensions(settings),
    )


def store_location(settings: Settings, store: tuple[str, Any]) -> tuple[str, str]:
    """(the SQLite path or PostgreSQL URL, the collection) of a store from :func:`embedded_store` or
    :func:`postgres_store`."""
    config = store[1]
    location = config.connection_string if settings.backend == "postgres" else config.path
    return location, COLLECTION


KEYS_FILE = "keys.sqlite3"


def open_keyring(settings: Settings) -> Keyring:
    """The person keys of the configured backend: ``<data dir>/keys.sqlite3`` for the embedded store,
    the ``cubby_keys`` table on PostgreSQL."""
    master = load_master_key(settings)
    if settings.backend == "postgres":
        from core.memory.stores.postgres_keys import PostgresKeyTable

        assert settings.database_url is not None
        table: KeyTable = PostgresKeyTable(settings.database_url.get_secret_value())
    else:
        if settings.keep_in_memory_mb is not None:  # before the first embedded file is opened
            RESIDENT.set_budget(settings.keep_in_memory_mb << 20)
        table = SQLiteKeyTable(settings.data_dir / KEYS_FILE)
    try:
        return Keyring(table, master)
    except KeyUnavailable as error:
        try:
            return Keyring(table, finish_interrupted_rotation(settings, error))
        except KeyUnavailable:
            table.close()
            raise ConfigError(str(error)) from None


def rotate_master_key(settings: Settings, new_key_file: Path | None = None) -> tuple[int, Path]:
    """Re-wrap every person key under a new master key (see :mod:`core.memory.crypto.rotation`).
    Returns how many keys were re-wrapped and the file now holding the new master key."""
    keyring = open_keyring(settings)
    try:
        return rotate(keyring, settings, new_key_file)
    finally:
        keyring.close()


async def open_backend(settings: Settings) -> Backend:
    if settings.backend == "hosted":
        return await open_hosted_backend(settings)
    # The model loads on its own thread while mem0 is imported and the store and keys are opened.
    load_in_background(settings.embedding_model)
    store = postgres_store(settings) if settings.backend == "postgres" else embedded_store(settings)
    await asyncio.to_thread(require_model, settings, *store_location(settings, store))
    keyring = await asyncio.to_thread(open_keyring, settings)
    memory = await asyncio.to_thread(build_memory, settings, store)
    return ThreadedBackend(
        Mem0Backend(
            memory,
            keyring=keyring,
            max_memories_per_user=settings.max_memories_per_user,
            search_threshold=settings.search_threshold,
        )
    )

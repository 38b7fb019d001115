"""Which embedding model made a store's vectors, kept in the store itself.

Vectors of two models live in different spaces (and often have different lengths): searching one
model's vectors with another's query finds nonsense, silently. So each store - the embedded SQLite
file or the PostgreSQL database - has a one-row table ``cubby_store_meta`` naming the model, and a
store opened with another ``CUBBY_EMBEDDING_MODEL`` is refused with a message that says what to do.

A store without the row gets it on first open: a store that already holds vectors was made before
models could be chosen, so with the default MiniLM; an empty one is stamped with the model opening it.
Two processes opening an unstamped store at once agree: the first insert wins and both read it back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from core.config import ConfigError, Settings
from core.errors import BackendUnavailable
from core.memory.models import DEFAULT_MODEL, MODELS, EmbeddingModel, embedding_model, model_by_id

TABLE = "cubby_store_meta"
KEY = "embedding_model"
# Every store made before the model was recorded was made with the default model.
UNSTAMPED_MODEL_ID = MODELS[DEFAULT_MODEL].model_id


class EmbeddingModelMismatch(ConfigError):
    """The store was made with another embedding model than the configured one."""


def _refusal(stamped: str, wanted: EmbeddingModel) -> EmbeddingModelMismatch:
    made_with = model_by_id(stamped)
    if made_with is None:
        return EmbeddingModelMismatch(
            f"this store's memories were embedded with {stamped!r}, a model this Cubby does not know; "
            "use the Cubby version that made it"
        )
    return EmbeddingModelMismatch(
        f"this store's memories were embedded with the {made_with.name!r} model, but "
        f"CUBBY_EMBEDDING_MODEL={wanted.name}: set CUBBY_EMBEDDING_MODEL={made_with.name}, or move the "
        f"store to the new model first with: cubby memories reembed --model {wanted.name}"
    )


def _first_stamp(has_vectors: bool, wanted: EmbeddingModel) -> str:
    return UNSTAMPED_MODEL_ID if has_vectors else wanted.model_id


# -- SQLite --------------------------------------------------------------------------------------
def _sqlite(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _sqlite_has_rows(connection: sqlite3.Connection, table: str) -> bool:
    exists = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    if exists.fetchone() is None:
        return False
    return connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None


def sqlite_stamp(path: Path, vectors_tables: tuple[str, ...], wanted: EmbeddingModel) -> str:
    """The model id the SQLite store at ``path`` is stamped with, stamping it first if it is not."""
    connection = _sqlite(path)
    try:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = connection.execute(f"SELECT value FROM {TABLE} WHERE key = ?", (KEY,)).fetchone()
        if row is None:
            has_vectors = any(_sqlite_has_rows(connection, table) for table in vectors_tables)
            stamp = _first_stamp(has_vectors, wanted)
            connection.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?)", (KEY, stamp))
            row = connection.execute(f"SELECT value FROM {TABLE} WHERE key = ?", (KEY,)).fetchone()
        return str(row[0])
    finally:
        connection.close()


def set_sqlite_stamp(path: Path, model: EmbeddingModel) -> None:
    connection = _sqlite(path)
    try:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        connection.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?)", (KEY, model.model_id))
    finally:
        connection.close()


# -- PostgreSQL ----------------------------------------------------------------------------------
def connect_postgres(url: str) -> Any:
    import psycopg

    from core.memory.stores.postgres_keys import describe_database

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="cubby")
    except Exception as error:  # the message may hold the URL's password: name the type only
        raise BackendUnavailable(
            f"cannot connect to PostgreSQL at {describe_database(url)} "
            f"({type(error).__name__}); check CUBBY_DATABASE_URL and that the server is running"
        ) from None


def _postgres_has_rows(connection: Any, table: str) -> bool:
    (regclass,) = connection.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    if regclass is None:
        return False
    return connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None


def _create_stamp_table(connection: Any) -> None:
    """``CREATE TABLE IF NOT EXISTS`` run by two processes at once can still fail on PostgreSQL (both
    see no table, one loses on the catalog's unique index), so the creation is serialised."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_STAMP_SCHEMA_LOCK,))
        connection.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key text PRIMARY KEY, value text NOT NULL)")


_STAMP_SCHEMA_LOCK = 0x637562_6D6F64  # "cubmod"


def postgres_stamp(url: str, vectors_tables: tuple[str, ...], wanted: EmbeddingModel) -> str:
    """The model id the PostgreSQL store is stamped with, stamping it first if it is not."""
    with connect_postgres(url) as connection:
        _create_stamp_table(connection)
        row = connection.execute(f"SELECT value FROM {TABLE} WHERE key = %s", (KEY,)).fetchone()
        if row is None:
            has_vectors = any(_postgres_has_rows(connection, table) for table in vectors_tables)
            stamp = _first_stamp(has_vectors, wanted)
            connection.execute(
                f"INSERT INTO {TABLE} VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", (KEY, stamp)
            )
            row = connection.execute(f"SELECT value FROM {TABLE} WHERE key = %s", (KEY,)).fetchone()
        return str(row[0])


def set_postgres_stamp(url: str, model: EmbeddingModel) -> None:
    with connect_postgres(url) as connection:
        _create_stamp_table(connection)
        connection.execute(
            f"INSERT INTO {TABLE} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (KEY, model.model_id),
        )


# -- the check -----------------------------------------------------------------------------------
def _vectors_tables(settings: Settings, collection: str) -> tuple[str, ...]:
    """Where a store of either layout keeps the vectors: rows in clear, or sealed rows."""
    clear = collection if settings.backend == "postgres" else f"vec_{collection}"
    return clear, f"sealed_{collection}"


def stamped_model(settings: Settings, location: str, collection: str) -> str:
    """The model id of the store at ``location`` (a SQLite path or a PostgreSQL URL)."""
    wanted = embedding_model(settings.embedding_model)
    tables = _vectors_tables(settings, collection)
    if settings.backend == "postgres":
        return postgres_stamp(location, tables, wanted)
    return sqlite_stamp(Path(location), tables, wanted)


def require_model(settings: Settings, location: str, collection: str) -> None:
    """Refuse, with what to do, a store made with another model than ``CUBBY_EMBEDDING_MODEL``."""
    wanted = embedding_model(settings.embedding_model)
    stamped = stamped_model(settings, location, collection)
    if stamped != wanted.model_id:
        raise _refusal(stamped, wanted)

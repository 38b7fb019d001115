"""Moving a store to another embedding model: ``cubby memories reembed --model NAME``.

Every vector in the store - memories and mem0's entity rows - is computed again from its row's text
with the new model, and the store's model stamp (:mod:`core.memory.stores.model_stamp`) is changed,
all in ONE transaction: a failure or a kill part-way leaves the store exactly as it was, still
stamped with the old model. Ids, payloads and owners are untouched, so nothing else (post
references, exports, keys) notices. On PostgreSQL the vector column is retyped to the new length in
the same transaction.

Run it with every bot and worker on the store stopped: a process still running the old model would
write vectors of the old kind into the moved store. The text of a row is read from the row itself
and never logged or printed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ConfigError, Settings
from core.memory.mem0_setup import COLLECTION
from core.memory.models import EmbeddingModel, embedding_model, model_by_id, shared_encoder
from core.memory.stores.model_stamp import KEY, TABLE, connect_postgres, stamped_model
from core.storage import DATABASE_NAME, require_existing_store

BATCH = 64


def _unknown_layout() -> ConfigError:
    return ConfigError("this store does not keep its vectors in the layout this re-embedding knows")


Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class Reembedded:
    """What a re-embedding did: ``rows`` vectors computed again, from ``was`` to ``now``."""

    was: str
    now: str
    rows: int


def _text_of(payload: object) -> str:
    """The text a row's vector was made from (mem0 keeps it in ``data`` for memories and entities)."""
    document = json.loads(payload) if isinstance(payload, str | bytes) else payload
    text = document.get("data") if isinstance(document, dict) else None
    if not isinstance(text, str):
        raise ConfigError("a stored row has no text to embed; the store is not one Cubby wrote")
    return text


def _batches(rows: list[tuple[Any, Any]], size: int) -> Iterator[list[tuple[Any, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _new_vectors(rows: list[tuple[Any, Any]], encode: Encode) -> Iterator[tuple[Any, np.ndarray]]:
    for batch in _batches(rows, BATCH):
        vectors = encode([_text_of(payload) for _, payload in batch])
        yield from ((row_id, vector) for (row_id, _), vector in zip(batch, vectors, strict=True))


# -- SQLite --------------------------------------------------------------------------------------
def _reembed_sqlite(path: Path, target: EmbeddingModel, encode: Encode) -> int:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("BEGIN IMMEDIATE")  # no other writer until the whole store is moved
        try:
            rows = 0
            for table in (f"vec_{COLLECTION}", f"vec_{COLLECTION}_entities"):
                exists = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                ).fetchone()
                if not exists and table == f"vec_{COLLECTION}":
                    raise _unknown_layout()  # never restamp vectors this code did not rewrite
                if not exists:
                    continue
                found = connection.execute(f'SELECT id, payload FROM "{table}"').fetchall()
                for row_id, vector in _new_vectors(found, encode):
                    blob = np.asarray(vector, dtype=np.float32).tobytes()
                    connection.execute(f'UPDATE "{table}" SET vector = ? WHERE id = ?', (blob, row_id))
                rows += len(found)
            connection.execute(f"UPDATE {TABLE} SET value = ? WHERE key = ?", (target.model_id, KEY))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return rows
    finally:
        connection.close()


# -- PostgreSQL ----------------------------------------------------------------------------------
def _reembed_postgres(url: str, target: EmbeddingModel, encode: Encode) -> int:
    from psycopg import sql

    rows = 0
    with connect_postgres(url) as connection, connection.transaction():
        for table in (COLLECTION, f"{COLLECTION}_entities"):
            found_table = connection.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if (found_table is None or found_table[0] is None) and table == COLLECTION:
                raise _unknown_layout()  # never restamp vectors this code did not rewrite
            if found_table is None or found_table[0] is None:
                continue
            name = sql.Identifier(table)
            connection.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name))
            found = connection.execute(sql.SQL("SELECT id, payload FROM {}").format(name)).fetchall()
            retype = sql.SQL("ALTER TABLE {} ALTER COLUMN vector TYPE vector({}) USING NULL")
            connection.execute(retype.format(name, sql.Literal(target.dimensions)))
            update = sql.SQL("UPDATE {} SET vector = %s::vector WHERE id = %s").format(name)
            for row_id, vector in _new_vectors(found, encode):
                text = "[" + ",".join(repr(float(x)) for x in vector) + "]"
                connection.execute(update, (text, row_id))
            rows += len(found)
        connection.execute(f"UPDATE {TABLE} SET value = %s WHERE key = %s", (target.model_id, KEY))
    return rows


def reembed(settings: Settings, model: str) -> Reembedded:
    """Move the configured store to ``model`` (a ``CUBBY_EMBEDDING_MODEL`` name); a store already on
    it is left alone (``rows`` 0). Raises :class:`ConfigError` with what to do when it cannot."""
    target = embedding_model(model)
    if settings.backend == "hosted":
        raise ConfigError("mem0's hosted platform embeds memories itself: there is nothing to re-embed")
    require_existing_store(settings)
    if settings.backend == "postgres":
        assert settings.database_url is not None  # Settings refuses postgres without it
        location = settings.database_url.get_secret_value()
    else:
        location = str(settings.data_dir / DATABASE_NAME)
    stamped = stamped_model(settings, location, COLLECTION)  # stamps a store from before stamps
    was = model_by_id(stamped)
    if was is None:
        raise ConfigError(f"the store was embedded with {stamped!r}, a model this Cubby does not know")
    if stamped == target.model_id:
        return Reembedded(was.name, target.name, 0)
    encode = shared_encoder(target.name).encode
    if settings.backend == "postgres":
        rows = _reembed_postgres(location, target, encode)
    else:
        rows = _reembed_sqlite(Path(location), target, encode)
    return Reembedded(was.name, target.name, rows)

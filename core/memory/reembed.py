"""Moving a store to another embedding model: ``cubby memories reembed --model NAME``.

Every stored row - memories and mem0's entity rows - is opened with its person's key, its vector is
computed again from its text with the new model, and it is sealed again with the same key, under the
same id, owner and ``created_at``; the store's model stamp (:mod:`core.memory.stores.model_stamp`)
changes in the same, ONE transaction. A failure or a kill part-way leaves the store exactly as it
was, still stamped with the old model. Post references, exports and keys do not notice.

The store is first opened once with its own model, which brings an older store to the current
layout (rows sealed), so there is one layout to rewrite. A row whose key is gone (its person was
forgotten while it was being written) cannot be opened by anyone and is left as it is.

Run it with every bot and worker on the store stopped: a process still running the old model would
write vectors of the old kind into the moved store. No row's text is ever logged or printed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ConfigError, Settings
from core.memory.backends import open_keyring
from core.memory.crypto.keyring import Keyring
from core.memory.crypto.sealed import open_row, payload_of, quantize, seal_row
from core.memory.hub import open_hub
from core.memory.mem0_setup import COLLECTION
from core.memory.models import EmbeddingModel, embedding_model, model_by_id, shared_encoder
from core.memory.stores.model_stamp import KEY, TABLE, connect_postgres, stamped_model
from core.storage import DATABASE_NAME, require_existing_store

BATCH = 64
COLLECTIONS = (COLLECTION, f"{COLLECTION}_entities")
Encode = Callable[[list[str]], np.ndarray]
Row = tuple[Any, Any, Any, Any, Any]  # user_id, id, key_id, created_at, sealed


@dataclass(frozen=True, slots=True)
class Reembedded:
    """What a re-embedding did: ``rows`` rows embedded again, from model ``was`` to ``now``."""

    was: str
    now: str
    rows: int


class _Rewriter:
    """Opens rows with their person's key and seals them again around a vector of the new model."""

    def __init__(self, keyring: Keyring, was: EmbeddingModel, now: EmbeddingModel, encode: Encode) -> None:
        self.keyring, self.was, self.now, self.encode = keyring, was, now, encode

    def rewritten(self, collection: str, rows: list[Row]) -> Iterator[tuple[bytes, str]]:
        """(new sealed bytes, row id) for every row that can be opened, in batches of the model."""
        opened = []
        for user, row_id, key_id, created_at, sealed in rows:
            key = self.keyring.current(str(user))
            if key is None or key.key_id != key_id:
                continue  # a key destroyed by a forget: nobody can open this row, leave it
            plain = open_row(key, collection, str(row_id), created_at, bytes(sealed))
            payload = payload_of(plain, self.was.dimensions, key.user, created_at)
            text = payload.get("data")
            if not isinstance(text, str):
                raise ConfigError("a stored row has no text to embed; the store is not one Cubby wrote")
            opened.append((key, str(row_id), payload, text))
        for start in range(0, len(opened), BATCH):
            batch = opened[start : start + BATCH]
            vectors = self.encode([text for *_, text in batch])
            for (key, row_id, payload, _), vector in zip(batch, vectors, strict=True):
                _, sealed_again = seal_row(
                    key, collection, row_id, quantize(vector, self.now.dimensions), payload
                )
                yield sealed_again, row_id


# -- SQLite --------------------------------------------------------------------------------------
def _rewrite_sqlite(path: Path, rewriter: _Rewriter) -> int:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("BEGIN IMMEDIATE")  # no other writer until the whole store is moved
        try:
            count = 0
            for collection in COLLECTIONS:
                table = f"sealed_{collection}"
                exists = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                ).fetchone()
                if not exists:
                    continue
                rows = connection.execute(
                    f'SELECT user_id, id, key_id, created_at, sealed FROM "{table}"'
                ).fetchall()
                update = f'UPDATE "{table}" SET sealed = ? WHERE id = ?'
                for row in rewriter.rewritten(collection, rows):
                    connection.execute(update, row)
                    count += 1
                if connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (f"versions_{collection}",),
                ).fetchone():
                    # Every person's rows changed: a search index another process holds is stale.
                    connection.execute(f'DELETE FROM "versions_{collection}"')
                    connection.execute(
                        f'INSERT INTO "versions_{collection}" '
                        f'SELECT user_id, random() FROM "{table}" GROUP BY user_id'
                    )
            connection.execute(f"UPDATE {TABLE} SET value = ? WHERE key = ?", (rewriter.now.model_id, KEY))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return count
    finally:
        connection.close()


# -- PostgreSQL ----------------------------------------------------------------------------------
def _rewrite_postgres(url: str, rewriter: _Rewriter) -> int:
    from psycopg import sql

    count = 0
    with connect_postgres(url) as connection, connection.transaction():
        for collection in COLLECTIONS:
            table = f"sealed_{collection}"
            found = connection.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if found is None or found[0] is None:
                continue
            name = sql.Identifier(table)
            connection.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(name))
            select = sql.SQL("SELECT user_id, id, key_id, created_at, sealed FROM {}").format(name)
            rows = connection.execute(select).fetchall()
            update = sql.SQL("UPDATE {} SET sealed = %s WHERE id = %s").format(name)
            for row in rewriter.rewritten(collection, rows):
                connection.execute(update, row)
                count += 1
            versions = sql.Identifier(f"versions_{collection}")
            found = connection.execute("SELECT to_regclass(%s)", (f"versions_{collection}",)).fetchone()
            if found is not None and found[0] is not None:
                # Every person's rows changed: a search index another process holds is stale.
                connection.execute(sql.SQL("DELETE FROM {}").format(versions))
                connection.execute(
                    sql.SQL(
                        "INSERT INTO {} SELECT user_id, (random() * 9e18)::bigint FROM {} GROUP BY user_id"
                    ).format(versions, name)
                )
        connection.execute(f"UPDATE {TABLE} SET value = %s WHERE key = %s", (rewriter.now.model_id, KEY))
    return count


def _rewrite(settings: Settings, location: str, was: EmbeddingModel, now: EmbeddingModel) -> int:
    keyring = open_keyring(settings)
    try:
        rewriter = _Rewriter(keyring, was, now, shared_encoder(now.name).encode)
        if settings.backend == "postgres":
            return _rewrite_postgres(location, rewriter)
        return _rewrite_sqlite(Path(location), rewriter)
    finally:
        keyring.close()


async def reembed(settings: Settings, model: str) -> Reembedded:
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
    stamped = await asyncio.to_thread(stamped_model, settings, location, COLLECTION)
    was = model_by_id(stamped)
    if was is None:
        raise ConfigError(f"the store was embedded with {stamped!r}, a model this Cubby does not know")
    if was == target:
        return Reembedded(was.name, target.name, 0)
    async with open_hub(settings=settings.model_copy(update={"embedding_model": was.name})):
        pass  # brings an older store to the current layout, with its own model
    rows = await asyncio.to_thread(_rewrite, settings, location, was, target)
    return Reembedded(was.name, target.name, rows)

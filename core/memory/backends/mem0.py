"""Per-user operations on a mem0 ``Memory``. Synchronous and NOT thread-safe: ThreadedBackend runs
every call on its one memory thread. Every method takes the user as a canonical key string that the
hub has already validated; nothing here accepts a caller's filter.

mem0 leaves two isolation holes that are closed here, not left to callers: by-id calls have no owner
check (so every by-id operation first reads the row and compares its ``user_id``), and ``"*"`` would
match everyone (so the only filter ever built is ``{"user_id": <one key>}``).
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, TypeVar

from core.errors import MemoryFull
from core.memory.backends.payloads import export_entry, owned_records, record_from_payload
from core.memory.backends.protocol import ListedPage, page_of
from core.memory.crypto import Keyring
from core.memory.crypto.keyring import BEGAN_AT
from core.records import MemoryRecord, expiry_text, is_memory_id, parse_time, utc_now

log = logging.getLogger(__name__)

Built = TypeVar("Built")


class CubbyStore(Protocol):
    """What Cubby needs from a vector store beyond mem0's contract, for counting and erasure."""

    def get(self, vector_id: str) -> Any: ...
    def list(self, filters: Mapping[str, Any] | None = None, top_k: int | None = None) -> Any: ...
    def listed(
        self, user_id: str, build: Callable[[str, dict[str, Any]], Built | None]
    ) -> builtins.list[Built]: ...
    def count(self, user_id: str, key_id: int | None = None) -> int: ...
    def delete_user(self, user_id: str) -> int: ...
    def users_with_prefix(self, prefix: str) -> builtins.list[str]: ...  # `list` is the method
    def use_keyring(self, keyring: Keyring) -> None: ...
    def expired(self, now: str) -> builtins.list[tuple[str, str]]: ...
    def insert(
        self,
        vectors: builtins.list[Any],
        payloads: builtins.list[dict] | None,
        ids: builtins.list[str] | None,
    ) -> None: ...
    def checkpoint(self) -> bool: ...
    def one_read(self) -> AbstractContextManager[None]: ...
    def listed_page(
        self, user_id: str, page: int, size: int, now: str, build: Callable[[str, dict[str, Any]], Any]
    ) -> Any: ...
    def landed_rows(self) -> AbstractContextManager[dict[str, dict[str, Any]]]: ...
    def close(self) -> None: ...


class Mem0Backend:
    def __init__(
        self, memory: Any, *, keyring: Keyring, max_memories_per_user: int, search_threshold: float
    ) -> None:
        self.memory = memory
        self.keyring = keyring
        self.store: CubbyStore = memory.vector_store
        # mem0 creates its entity store lazily and only cleans it up if it exists in this process
        # (mem0 #7226); creating it now makes every delete clean up linked entities.
        self.entities: CubbyStore = memory.entity_store
        self._attach_keyring()
        self.embedder = memory.embedding_model
        self.max_memories_per_user = max_memories_per_user
        self.search_threshold = search_threshold
        self.flush_if_pending()  # an erasure another process could not flush is completed here

    def _attach_keyring(self) -> None:
        """Give both stores the keyring they seal and open every row with."""
        for store in (self.store, self.entities):
            store.use_keyring(self.keyring)

    # -- reads -----------------------------------------------------------------------------------
    @property
    def _cubby_store(self) -> bool:
        return hasattr(self.store, "one_read")

    def _one_read(self) -> AbstractContextManager[None]:
        return self.store.one_read() if self._cubby_store else nullcontext()

    def _landed_rows(self) -> AbstractContextManager[dict[str, dict[str, Any]] | None]:
        """The payloads of the rows an add landed, noted by the store as it inserts them (None
        for a store that does not note them)."""
        return self.store.landed_rows() if self._cubby_store else nullcontext()

    def search(self, user: str, query: str, limit: int) -> list[MemoryRecord]:
        with self._one_read():  # mem0 reads the rows twice: vector and keyword scoring
            found = self.memory.search(
                query, top_k=limit, filters={"user_id": user}, threshold=self.search_threshold
            )
        return owned_records(user, found["results"])

    def get_all(self, user: str) -> list[MemoryRecord]:
        """Every memory of ``user``, oldest first, read from the store directly: mem0's ``get_all``
        adds only a per-row reformatting (a third of a heavy person's listing) and the expiry check,
        which is mem0's own function here too. (Other stores - the benchmark's stock baseline - go
        through mem0.)"""
        if not self._cubby_store:
            total = self.store.count(user)
            if total == 0:
                return []
            return owned_records(user, self.memory.get_all(filters={"user_id": user}, top_k=total)["results"])
        return self.store.listed(user, self._record_of(user))

    def page(self, user: str, page: int, size: int) -> ListedPage:
        """One page of ``user``'s listing. On Cubby's stores only that page's rows are read and
        opened (a person with 50,000 memories is shown ten of them, not all of them built); a store
        that cannot order rows without opening them all gets the whole listing cut."""
        if self._cubby_store:
            found = self.store.listed_page(user, page, size, expiry_text(utc_now()), self._record_of(user))
            if found is not None:
                return found
        return page_of(self.get_all(user), page, size)

    def exported(self, user: str) -> list[dict[str, Any]]:
        """Every memory of ``user`` as the entry of an export, oldest first, the expired left out.
        On Cubby's stores each row becomes its entry at once (``export_entry``), with no record
        made between."""
        now = utc_now()
        if not self._cubby_store:
            return [record.to_dict() for record in self.get_all(user) if not record.expired(now)]

        def unexpired_entry(memory_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
            expires = parse_time(payload.get("expires_at"))
            return None if expires is not None and expires <= now else export_entry(memory_id, payload)

        return self.store.listed(user, self._kept(user, unexpired_entry))

    def _record_of(self, user: str) -> Callable[[str, dict[str, Any]], MemoryRecord | None]:
        return self._kept(user, record_from_payload)

    def _kept(
        self, user: str, make: Callable[[str, dict[str, Any]], Built | None]
    ) -> Callable[[str, dict[str, Any]], Built | None]:
        """What ``make`` makes of one of ``user``'s rows, or None for a row that is not theirs (a
        bug, logged) or that mem0 counts as expired."""
        # Imported here: importing mem0.memory.main runs mem0's set-up, which must follow Cubby's
        # (core.memory.mem0_setup: mem0's files inside the data dir, telemetry off); it has by now.
        from mem0.memory.main import _payload_is_expired as expired

        def kept(memory_id: str, payload: dict[str, Any]) -> Built | None:
            if payload.get("user_id") != user:
                log.error("dropped a result that did not belong to the requesting user")
                return None
            return None if expired(payload) else make(memory_id, payload)

        return kept

    def count(self, user: str) -> int:
        return self.store.count(user)

    def get(self, user: str, memory_id: str) -> MemoryRecord | None:
        row = self.store.get(memory_id)
        if row is None or row.payload.get("user_id") != user:
            return None  # someone else's id is indistinguishable from an unknown one
        return record_from_payload(str(row.id), row.payload)

    def prime(self, texts: list[str]) -> None:
        """Embed ``texts`` ahead of the mem0 call that needs them; safe from any thread."""
        self.embedder.prime(texts)

    def users_with_prefix(self, prefix: str) -> list[str]:
        return sorted(
            set(self.store.users_with_prefix(prefix)) | set(self.entities.users_with_prefix(prefix))
        )

    # -- writes ----------------------------------------------------------------------------------
    def add(
        self, user: str, messages: list[dict[str, str]], metadata: dict[str, Any], infer: bool
    ) -> list[MemoryRecord]:
        metadata = dict(metadata)
        began = metadata.pop(BEGAN_AT, None)
        start = self.keyring.before_write(user, began if isinstance(began, float) else None)
        if start.forgotten or start.key is None:  # (a key is always made when not forgotten)
            return []  # asked for before a forget of this person that has happened since: dropped
        held = self.store.count(user, start.key.key_id) if self._cubby_store else self.store.count(user)
        if held + (0 if infer else len(messages)) > self.max_memories_per_user:
            raise MemoryFull(f"you can keep up to {self.max_memories_per_user} memories; forget some first")
        if start.flush_pending:
            self._flush()  # an erasure another process could not flush is completed first
        # The key is captured now; every row of this add lands only if it still exists then.
        with self.keyring.pinned(user, start.key), self._landed_rows() as landed:
            result = self.memory.add(messages, user_id=user, metadata=metadata, infer=infer)
        records = []
        for item in result["results"]:
            if item.get("event") != "ADD":
                continue
            id_ = str(item["id"])
            # A row not noted (another store, or one the barrier dropped) is read back: None if absent.
            record = (
                record_from_payload(id_, landed[id_]) if landed and id_ in landed else self.get(user, id_)
            )
            if record is not None:
                records.append(record)
        return records

    def update(self, user: str, memory_id: str, text: str) -> MemoryRecord | None:
        """Replace the text of one of ``user``'s memories (re-embedded, through the store's own
        ``update``), and erase the old text as a delete would: the row is rewritten in place with
        ``secure_delete`` on, the old embedding leaves the cache and the WAL is flushed. mem0's
        update also writes a history entry, which goes to Cubby's NoHistory."""
        row = self.store.get(memory_id)
        if row is None or row.payload.get("user_id") != user:
            return None  # someone else's id is indistinguishable from an unknown one
        old_text = str(row.payload.get("data", ""))
        self.flush_if_pending()
        self.memory.update(memory_id, text=text)
        if old_text != text:
            self.embedder.forget([old_text])
        self._flush()
        return self.get(user, memory_id)

    def restore(self, user: str, records: list[MemoryRecord], metadata: list[dict[str, Any]]) -> list[str]:
        """Store ``records`` (from an export) verbatim for ``user``, keeping each one's id when no
        row anywhere has it, and its timestamps. The row is written as mem0 writes a verbatim add,
        through the store's own ``insert``."""
        if self.store.count(user) + len(records) > self.max_memories_per_user:
            raise MemoryFull(f"you can keep up to {self.max_memories_per_user} memories; forget some first")
        from mem0.utils.lemmatization import lemmatize_for_bm25

        metadata = [dict(extra) for extra in metadata]
        began = [extra.pop(BEGAN_AT, None) for extra in metadata]
        if any(isinstance(b, float) and self.keyring.forgotten_since(user, b) for b in began):
            return []  # asked for before a forget of this person that has happened since: dropped
        self.flush_if_pending()
        with self.keyring.pinned(user, self.keyring.ensure(user)):
            return self._insert_restored(user, records, metadata, lemmatize_for_bm25)

    def _insert_restored(
        self, user: str, records: list[MemoryRecord], metadata: list[dict[str, Any]], lemmatize: Any
    ) -> list[str]:
        stored = []
        for record, extra in zip(records, metadata, strict=True):
            free = is_memory_id(record.id) and self.store.get(record.id) is None
            memory_id = record.id if free else str(uuid.uuid4())
            created = (record.created_at or utc_now()).isoformat()
            payload = {
                **extra,
                "user_id": user,
                "role": "user",
                "data": record.text,
                "hash": hashlib.md5(record.text.encode()).hexdigest(),
                "created_at": created,
                "updated_at": record.updated_at.isoformat() if record.updated_at else created,
                "text_lemmatized": lemmatize(record.text),
            }
            vector = self.embedder.embed(record.text, "add")
            self.store.insert(vectors=[vector], payloads=[payload], ids=[memory_id])
            stored.append(memory_id)
        return stored

    def expired(self, now: str) -> list[tuple[str, str]]:
        return self.store.expired(now)

    def delete(self, user: str, memory_id: str) -> bool:
        row = self.store.get(memory_id)
        if row is None or row.payload.get("user_id") != user:
            return False
        try:
            self.memory.delete(memory_id)
        except ValueError:  # mem0's "not found": another process (a sweeper, a forget) erased it
            if self.store.get(memory_id) is None:
                return False
            raise
        self.embedder.forget([str(row.payload.get("data", ""))])
        self._flush()
        return True

    def delete_all(self, user: str) -> int:
        """Complete erasure: the person's key, then every memory row and every entity row.

        Destroying the key first is what makes this final for every copy of the rows (backups,
        WAL frames, freed pages); deleting the rows afterwards waits for any write that captured
        the key before it was destroyed. mem0's own ``delete_all`` deletes one memory at a time and
        re-scans the entity store for each; deleting the user's rows from both collections directly
        is the same end state, in one transaction each."""
        texts = [r.text for r in self.get_all(user)]
        self.keyring.destroy(user)
        removed = self.store.delete_user(user)
        self.entities.delete_user(user)
        self.embedder.forget(texts)
        self._flush()
        return removed

    def _flush(self) -> bool:
        """Checkpoint and truncate every WAL, so no old page image of erased rows or keys stays in a
        file. If another process's read snapshot prevents it, that is recorded in the key table, and
        the next write here, or the next process to open the store, completes it."""
        stores: list[Any] = [self.store, self.entities, self.keyring.table]
        flushed = all([store.checkpoint() for store in stores])
        pending = bool(self.keyring.table.unflushed())
        if not flushed and not pending:
            self.keyring.table.mark_unflushed("erasure")
            log.warning("the WAL is held by another process's reader; the erasure flush is retried")
        elif flushed and pending:
            self.keyring.table.clear_unflushed("erasure")
        return flushed

    def flush_if_pending(self) -> None:
        """Complete a recorded erasure flush (this process's or another's) if one is pending."""
        if self.keyring.table.unflushed():
            self._flush()

    def settle(self, timeout_seconds: float) -> bool:
        """Wait up to ``timeout_seconds`` for every pending erasure flush; False if it is still
        pending (the operator command then fails loudly)."""
        deadline = time.monotonic() + timeout_seconds
        while self.keyring.table.unflushed():
            if self._flush():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def close(self) -> None:
        self.flush_if_pending()
        for store in (self.store, self.entities):
            store.checkpoint()
            store.close()
        self.keyring.close()

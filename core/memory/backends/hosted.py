"""mem0's hosted platform as a Cubby backend, through mem0's ``AsyncMemoryClient``.

mem0's client sends whatever it is asked: ``get_all()`` and ``delete_all()`` without a user go out
unscoped, and by-id calls carry no owner check. So every method here builds its own request,
always for exactly one user:

- reads are ``filters={"user_id": <key>}`` (plus ``memory_ids`` for a by-id lookup), never wider;
- a by-id delete is only sent after a scoped read has shown the id is this person's; someone else's
  id is indistinguishable from an unknown one, and no request about it leaves Cubby;
- ``delete_all`` is ``user_id=<key>`` and is followed by the removal of that user entity.

The one request that is not about one person is the entity listing behind ``users_with_prefix``
(erasing a whole uninstalled workspace); it returns entity names only, and only names starting with
the workspace prefix are used.

The platform does its own embedding, so ``prime`` does nothing, and its calls are plain async I/O,
awaited on the event loop: no thread of Cubby's is involved.

The forget barrier. The platform queues fact extraction, so an extraction sent before a forget can
land after it. Every add carries the time it was asked for (``BEGAN_AT`` in its metadata), and each
forget is noted locally (:class:`core.memory.backends.forgets.ForgetLog`). A memory asked for before
the person's last forget is deleted again wherever it shows up and is never returned: by a sweep
that re-reads the person for about two minutes after a forget that had extractions in flight, and
by every read after that. An add asked for before a forget but not yet sent is not sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.config import ConfigError, Settings
from core.errors import BackendUnavailable, MemoryFull
from core.memory.backends.forgets import ForgetLog
from core.memory.backends.payloads import owned_records
from core.memory.backends.protocol import ListedPage, page_of
from core.memory.crypto.keyring import BEGAN_AT
from core.memory.mem0_setup import import_mem0
from core.records import MemoryRecord, expiry_text, utc_now

log = logging.getLogger(__name__)

DEFAULT_HOST = "https://api.mem0.ai"
_PAGE_SIZE = 200  # the platform's largest page
_ERASE_POLL_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # about 6 s in all
_SWEEP_SECONDS = (0.5, 1, 2, 4, 8, 16, 32, 64)  # about two minutes after a forget
_EXTRACTION_WINDOW_SECONDS = 600.0  # an extraction sent this recently may still be queued

ALSO_HELD = (
    "the mem0 platform may also hold its own change history of these memories and its logs; "
    "Cubby cannot see or erase those, see mem0's data retention terms"
)


def _oldest_first(record: MemoryRecord) -> tuple[datetime, str]:
    return (record.created_at or datetime.max.replace(tzinfo=UTC), record.id)


def _metadata_of(record: MemoryRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {"source": record.source.to_dict()} if record.source else {}
    if record.expires_at:
        metadata["expires_at"] = expiry_text(record.expires_at)
    return metadata


def _not_found(error: Exception) -> bool:
    from mem0.exceptions import MemoryNotFoundError

    return isinstance(error, MemoryNotFoundError)


class HostedBackend:
    """The :class:`core.memory.backends.protocol.Backend` contract on mem0's hosted platform."""

    also_held = ALSO_HELD

    def __init__(
        self, client: Any, *, forgets: ForgetLog, max_memories_per_user: int, search_threshold: float
    ) -> None:
        self.client = client
        self.forgets = forgets
        self.max_memories_per_user = max_memories_per_user
        self.search_threshold = search_threshold
        self._extracting: dict[str, float] = {}  # user -> when this process last sent an extraction
        self._sweeps: set[asyncio.Task[None]] = set()

    async def _current(self, user: str, items: list[Mapping[str, Any]]) -> list[MemoryRecord]:
        """The records among ``items`` that are ``user``'s, less those asked for before the person's
        last forget, which are deleted again (the read just showed they are this person's)."""
        forgotten_at = self.forgets.last(user)
        kept = []
        for item in items:
            began = (item.get("metadata") or {}).get(BEGAN_AT)
            stale = forgotten_at is not None and isinstance(began, int | float) and began <= forgotten_at
            if stale and item.get("user_id") == user:
                await self._delete_quietly(str(item["id"]))
            else:
                kept.append(item)
        return owned_records(user, kept)

    async def _delete_quietly(self, memory_id: str) -> None:
        try:
            await self.client.delete(memory_id)
        except Exception as error:
            if not _not_found(error):
                log.warning("could not delete a memory from before a forget: %s", type(error).__name__)

    @staticmethod
    def _scope(user: str) -> dict[str, str]:
        return {"user_id": user}

    async def _page(self, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
        return await self.client.get_all(filters=filters, page=page, page_size=page_size)

    # -- reads -----------------------------------------------------------------------------------
    async def search(self, user: str, query: str, limit: int) -> list[MemoryRecord]:
        found = await self.client.search(
            query, filters=self._scope(user), top_k=limit, threshold=self.search_threshold
        )
        return await self._current(user, found.get("results") or [])

    async def get_all(self, user: str) -> list[MemoryRecord]:
        records: list[MemoryRecord] = []
        last_page = self.max_memories_per_user // _PAGE_SIZE + 1
        for page in range(1, last_page + 1):
            listed = await self._page(self._scope(user), page, _PAGE_SIZE)
            records.extend(await self._current(user, listed.get("results") or []))
            if not listed.get("next"):
                break
        return sorted(records, key=_oldest_first)

    async def exported(self, user: str) -> list[dict[str, Any]]:
        now = utc_now()
        return [record.to_dict() for record in await self.get_all(user) if not record.expired(now)]

    async def page(self, user: str, page: int, size: int) -> ListedPage:
        return page_of(await self.get_all(user), page, size)

    async def count(self, user: str) -> int:
        if self.forgets.last(user) is not None:
            return len(await self.get_all(user))  # recently forgotten: count what really is current
        listed = await self._page(self._scope(user), 1, 1)
        return int(listed.get("count") or 0)

    async def _mine(self, user: str, memory_ids: list[str]) -> list[MemoryRecord]:
        listed = await self._page({**self._scope(user), "memory_ids": memory_ids}, 1, _PAGE_SIZE)
        wanted = set(memory_ids)
        return [r for r in await self._current(user, listed.get("results") or []) if r.id in wanted]

    async def get(self, user: str, memory_id: str) -> MemoryRecord | None:
        found = await self._mine(user, [memory_id])
        return found[0] if found else None  # someone else's id is indistinguishable from an unknown one

    async def prime(self, texts: list[str]) -> None:
        """The platform embeds; nothing to do ahead of time."""

    async def users_with_prefix(self, prefix: str) -> list[str]:
        listed = await self.client.users()
        names: set[str] = set()
        while True:
            for entity in listed.get("results") or []:
                name = entity.get("name")
                if entity.get("type") == "user" and isinstance(name, str) and name.startswith(prefix):
                    names.add(name)
            next_page = listed.get("next")
            if not next_page:
                return sorted(names)
            response = await self.client.async_client.get(next_page)
            response.raise_for_status()
            listed = response.json()

    # -- writes ----------------------------------------------------------------------------------
    async def add(
        self, user: str, messages: list[dict[str, str]], metadata: dict[str, Any], infer: bool
    ) -> list[MemoryRecord]:
        if await self.count(user) + (0 if infer else len(messages)) > self.max_memories_per_user:
            raise MemoryFull(f"you can keep up to {self.max_memories_per_user} memories; forget some first")
        began, forgotten_at = metadata.get(BEGAN_AT), self.forgets.last(user)
        if isinstance(began, float) and forgotten_at is not None and forgotten_at >= began:
            return []  # asked for before a forget of this person that has happened since
        if infer:
            self._extracting[user] = time.time()
        result = await self.client.add(messages, user_id=user, metadata=metadata, infer=infer)
        # Verbatim adds are stored synchronously and listed; extraction is queued on the platform
        # (an event id, no memories yet), so it returns nothing here.
        added = [str(i["id"]) for i in result.get("results") or [] if i.get("event") == "ADD" and i.get("id")]
        return await self._mine(user, added) if added else []

    async def update(self, user: str, memory_id: str, text: str) -> MemoryRecord | None:
        """An edit is a new memory with the old one's source and expiry, then the old one's
        delete: the platform keeps a change history of in-place updates, which would keep the old
        text. So the edited memory has a new id here."""
        old = await self.get(user, memory_id)
        if old is None:
            return None
        metadata = _metadata_of(old)
        added = await self.client.add(
            [{"role": "user", "content": text}], user_id=user, metadata=metadata, infer=False
        )
        new_ids = [
            str(i["id"]) for i in added.get("results") or [] if i.get("event") == "ADD" and i.get("id")
        ]
        await self.delete(user, memory_id)
        found = await self._mine(user, new_ids) if new_ids else []
        return found[0] if found else None

    async def restore(
        self, user: str, records: list[MemoryRecord], metadata: list[dict[str, Any]]
    ) -> list[str]:
        """Verbatim adds: the platform gives every memory a new id and its own timestamps."""
        if await self.count(user) + len(records) > self.max_memories_per_user:
            raise MemoryFull(f"you can keep up to {self.max_memories_per_user} memories; forget some first")
        stored = []
        for record, extra in zip(records, metadata, strict=True):
            message = [{"role": "user", "content": record.text}]
            result = await self.client.add(message, user_id=user, metadata=extra, infer=False)
            stored += [str(i["id"]) for i in result.get("results") or [] if i.get("id")]
        return stored

    async def expired(self, now: str) -> list[tuple[str, str]]:
        """The platform has no expiry index Cubby can query, so this lists every person's memories;
        the platform's own ``expiration_date`` only hides a memory, it does not erase it."""
        moment = datetime.fromisoformat(now)
        found = []
        for prefix in ("slack:", "discord:", "cli:"):
            for user in await self.users_with_prefix(prefix):
                found += [(user, r.id) for r in await self.get_all(user) if r.expired(moment)]
        return found

    async def delete(self, user: str, memory_id: str) -> bool:
        if await self.get(user, memory_id) is None:
            return False
        try:
            await self.client.delete(memory_id)
        except Exception as error:
            if _not_found(error):
                return False  # deleted meanwhile, e.g. from another process
            raise
        return True

    async def delete_all(self, user: str) -> int:
        """Everything of ``user`` on the platform: the memories, then the user entity. The platform
        queues deletions; this waits (a few seconds at most) until a scoped count shows none left."""
        held = await self.count(user)
        self.forgets.record(user)  # from here on, what was asked for before is deleted on sight
        # Sent even when nothing is listed: an extraction may be queued on the platform.
        await self.client.delete_all(user_id=user)
        if held:
            await self._wait_until_erased(user)
        try:
            await self.client.delete_users(user_id=user)
        except Exception as error:
            if not _not_found(error):
                raise
        if time.time() - self._extracting.pop(user, 0.0) < _EXTRACTION_WINDOW_SECONDS:
            sweep = asyncio.create_task(self._sweep(user))
            self._sweeps.add(sweep)
            sweep.add_done_callback(self._sweeps.discard)
        return held

    async def _sweep(self, user: str) -> None:
        """Re-read ``user`` for a while after a forget, deleting what their queued extractions land."""
        for pause in _SWEEP_SECONDS:
            await asyncio.sleep(pause)
            try:
                await self.get_all(user)
            except Exception as error:
                log.warning("a sweep after a forget failed: %s", type(error).__name__)

    async def _wait_until_erased(self, user: str) -> None:
        for pause in _ERASE_POLL_SECONDS:
            if await self.count(user) == 0:
                return
            await asyncio.sleep(pause)
        log.warning("the platform has not finished an erasure yet; it continues in the background")

    async def settle(self, timeout_seconds: float) -> bool:
        """Nothing of Cubby's to flush: the platform keeps the data."""
        return True

    async def close(self) -> None:
        for sweep in self._sweeps:
            sweep.cancel()  # whatever lands later is deleted by the next read of that person
        await asyncio.gather(*self._sweeps, return_exceptions=True)
        await self.client.async_client.aclose()
        self.forgets.close()


async def _check_reachable(host: str, api_key: str, timeout: float) -> None:
    """Fail fast with a clear message: mem0's client pings the platform without a timeout."""
    import httpx

    try:
        async with httpx.AsyncClient(base_url=host, timeout=timeout) as http:
            response = await http.get("/v1/ping/", headers={"Authorization": f"Token {api_key}"})
    except httpx.HTTPError as error:
        raise BackendUnavailable(
            f"cannot reach the mem0 platform at {host} ({type(error).__name__})"
        ) from None
    if response.status_code in (401, 403):
        raise ConfigError("the mem0 platform refused MEM0_API_KEY")
    if response.status_code >= 400:
        raise BackendUnavailable(f"the mem0 platform at {host} answered {response.status_code}")


async def open_hosted_backend(settings: Settings) -> HostedBackend:
    assert settings.mem0_api_key is not None  # Settings refuses hosted without it
    import_mem0(settings)
    import httpx
    from mem0 import AsyncMemoryClient

    host = settings.mem0_host or DEFAULT_HOST
    api_key = settings.mem0_api_key.get_secret_value()
    await _check_reachable(host, api_key, settings.mem0_timeout_seconds)
    http = httpx.AsyncClient(timeout=settings.mem0_timeout_seconds)
    try:
        client = await asyncio.to_thread(AsyncMemoryClient, api_key=api_key, host=host, client=http)
    except Exception as error:
        await http.aclose()
        raise BackendUnavailable(f"cannot start the mem0 client ({type(error).__name__})") from None
    return HostedBackend(
        client,
        forgets=ForgetLog(settings.data_dir / "forgets.sqlite3"),
        max_memories_per_user=settings.max_memories_per_user,
        search_threshold=settings.search_threshold,
    )

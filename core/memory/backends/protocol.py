"""The one contract every memory backend implements, and the only one the hub knows.

Every method takes the user as a canonical key string that the hub has already validated and bound
into a :class:`core.memory.hub.ScopedMemory`; no method accepts a caller's filter. Every method is a
coroutine: a backend that talks to the network awaits it on the event loop, and one that wraps a
synchronous engine (mem0's ``Memory``) runs it on threads it owns
(:class:`core.memory.backends.threaded.ThreadedBackend`), so the hub never needs to know which.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from core.records import MemoryRecord, utc_now

ListedPage = tuple[list[MemoryRecord], int, int]  # the page's records, how many in all, the page


def page_of(records: list[MemoryRecord], page: int, size: int) -> ListedPage:
    """:meth:`Backend.page` of a listing already made (oldest first): the unexpired ones, cut."""
    now = utc_now()
    current = [record for record in records if not record.expired(now)]
    page = min(max(1, page), max(1, math.ceil(len(current) / size)))
    return current[(page - 1) * size : page * size], len(current), page


class Backend(Protocol):
    #: What the backend may hold about a person besides their memories, stated in every export.
    also_held: str

    async def search(self, user: str, query: str, limit: int) -> list[MemoryRecord]: ...
    async def get_all(self, user: str) -> list[MemoryRecord]: ...

    async def exported(self, user: str) -> list[dict[str, Any]]:
        """Every memory of ``user`` that has not expired, oldest first, as :meth:`get_all` orders
        them, each as ``MemoryRecord.to_dict`` makes it: the memories of an export."""
        ...

    async def page(self, user: str, page: int, size: int) -> ListedPage:
        """Page ``page`` (from 1, moved into the pages there are) of ``size`` of ``user``'s memories
        that have not expired, oldest first, as :meth:`get_all` orders them; with how many there are
        and the page it is."""
        ...

    async def count(self, user: str) -> int: ...
    async def get(self, user: str, memory_id: str) -> MemoryRecord | None: ...

    async def prime(self, texts: list[str]) -> None:
        """Embed ``texts`` ahead of the call that needs them (nothing to do if the backend embeds
        remotely); a failure here means the embedding model failed, not the store."""
        ...

    async def users_with_prefix(self, prefix: str) -> list[str]: ...

    async def add(
        self, user: str, messages: list[dict[str, str]], metadata: dict[str, Any], infer: bool
    ) -> list[MemoryRecord]: ...

    async def update(self, user: str, memory_id: str, text: str) -> MemoryRecord | None:
        """Replace the text of ``user``'s memory ``memory_id``, erasing the old text as a delete
        does; None (and nothing changed) when it is not ``user``'s. The record may have a new id."""
        ...

    async def restore(
        self, user: str, records: list[MemoryRecord], metadata: list[dict[str, Any]]
    ) -> list[str]:
        """Store exported ``records`` verbatim for ``user`` with their ``metadata`` (source, expiry);
        the ids they were stored under, in order."""
        ...

    async def expired(self, now: str) -> list[tuple[str, str]]:
        """``(user, memory id)`` of every memory whose expiry is at or before ``now``."""
        ...

    async def delete(self, user: str, memory_id: str) -> bool: ...
    async def delete_all(self, user: str) -> int: ...

    async def settle(self, timeout_seconds: float) -> bool:
        """Wait up to ``timeout_seconds`` until every erasure is flushed to disk; False if one is
        still pending."""
        ...

    async def close(self) -> None: ...

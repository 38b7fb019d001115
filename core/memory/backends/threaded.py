"""The synchronous :class:`Mem0Backend` behind the async :class:`Backend` contract.

mem0's ``Memory`` is not thread-safe as mem0 ships it: concurrent adds failed in its shared history
connection. So every mem0 call runs on one dedicated memory thread, in order, and the event loop never
waits on it. Embedding - the slow part of an add or a search, and one that releases the GIL - runs
first on two threads of its own, so several people are embedded in parallel, and in batches when they
arrive faster than the model keeps up (:mod:`core.memory.embed_queue`).

One exception: a fact extraction (``add(..., infer=True)``) spends seconds waiting on the LLM, and
would hold everyone's commands behind it. It runs on a second, extraction thread. That is safe with
the parts Cubby gives mem0: no history database, stores that serialise their own connection (or use a
pool), an embedder whose cache is locked, and an entity store created before any call.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from core.memory.backends.mem0 import Mem0Backend
from core.memory.backends.protocol import ListedPage
from core.memory.embed_queue import EmbedQueue
from core.records import MemoryRecord

P = ParamSpec("P")
T = TypeVar("T")

NOTHING_ELSE_HELD = "nothing else: Cubby keeps no change history and no conversation log"


class ThreadedBackend:
    """Owns the memory thread, the extraction thread and the embedding threads of one Mem0Backend."""

    also_held = NOTHING_ELSE_HELD

    def __init__(self, inner: Mem0Backend) -> None:
        self.inner = inner
        self._memory_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cubby-memory")
        self._extraction_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cubby-extract")
        self._embed_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cubby-embed")
        self.embed_queue = EmbedQueue(inner.prime, self._embed_threads, parallel=2)

    async def _on(
        self, thread: ThreadPoolExecutor, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(thread, call)

    async def search(self, user: str, query: str, limit: int) -> list[MemoryRecord]:
        return await self._on(self._memory_thread, self.inner.search, user, query, limit)

    async def get_all(self, user: str) -> list[MemoryRecord]:
        return await self._on(self._memory_thread, self.inner.get_all, user)

    async def exported(self, user: str) -> list[dict[str, Any]]:
        return await self._on(self._memory_thread, self.inner.exported, user)

    async def page(self, user: str, page: int, size: int) -> ListedPage:
        return await self._on(self._memory_thread, self.inner.page, user, page, size)

    async def count(self, user: str) -> int:
        return await self._on(self._memory_thread, self.inner.count, user)

    async def get(self, user: str, memory_id: str) -> MemoryRecord | None:
        return await self._on(self._memory_thread, self.inner.get, user, memory_id)

    async def prime(self, texts: list[str]) -> None:
        await self.embed_queue.embed(texts)

    async def users_with_prefix(self, prefix: str) -> list[str]:
        return await self._on(self._memory_thread, self.inner.users_with_prefix, prefix)

    async def add(
        self, user: str, messages: list[dict[str, str]], metadata: dict[str, Any], infer: bool
    ) -> list[MemoryRecord]:
        thread = self._extraction_thread if infer else self._memory_thread
        return await self._on(thread, self.inner.add, user, messages, metadata, infer)

    async def update(self, user: str, memory_id: str, text: str) -> MemoryRecord | None:
        return await self._on(self._memory_thread, self.inner.update, user, memory_id, text)

    async def restore(
        self, user: str, records: list[MemoryRecord], metadata: list[dict[str, Any]]
    ) -> list[str]:
        return await self._on(self._memory_thread, self.inner.restore, user, records, metadata)

    async def expired(self, now: str) -> list[tuple[str, str]]:
        return await self._on(self._memory_thread, self.inner.expired, now)

    async def delete(self, user: str, memory_id: str) -> bool:
        return await self._on(self._memory_thread, self.inner.delete, user, memory_id)

    async def delete_all(self, user: str) -> int:
        return await self._on(self._memory_thread, self.inner.delete_all, user)

    async def settle(self, timeout_seconds: float) -> bool:
        return await self._on(self._memory_thread, self.inner.settle, timeout_seconds)

    async def close(self) -> None:
        """Let a running extraction finish, then close the stores on the memory thread, in order."""
        await asyncio.to_thread(self._extraction_thread.shutdown, True)
        try:
            await self._on(self._memory_thread, self.inner.close)
        finally:
            self._memory_thread.shutdown(wait=True)
            self._embed_threads.shutdown(wait=True)

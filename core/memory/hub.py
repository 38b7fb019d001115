"""The hub: the one memory engine of a process, and the only way to get a :class:`ScopedMemory`.

mem0's ``Memory`` is not thread-safe as mem0 ships it (FINDINGS §1: concurrent adds failed in its
shared history connection), so every mem0 call runs on one dedicated thread, in order. The event loop
never waits on it. Embedding - the slow part of an add or a search, and one that releases the GIL -
runs first on a small pool of its own, so several people are embedded in parallel, and in batches
when they arrive faster than the model keeps up (:mod:`core.memory.embed_queue`).

One exception: a fact extraction (``add(..., extract=True)``) spends seconds waiting on the LLM, and
would hold everyone's commands behind it. It runs on a second, extraction thread. That is safe with
the parts Cubby gives mem0: no history database, stores that serialise their own connection (or use a
pool), an embedder whose cache is locked, and an entity store created before any call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from core.config import ConfigError, Settings, load_settings
from core.errors import BackendUnavailable, CubbyError, InvalidInput, InvalidUserKey
from core.keys import UserKey
from core.memory.backends import Backend, open_backend
from core.memory.crypto.keyring import BEGAN_AT
from core.memory.embed_queue import EmbedQueue
from core.records import MemoryRecord, Source, is_memory_id, utc_now

log = logging.getLogger(__name__)
T = TypeVar("T")

_ROLES = ("user", "assistant")
_SEARCH_LIMIT_MAX = 100
EXPORT_FORMAT = "cubby.export.v1"
_NOTHING_ELSE_HELD = "nothing else: Cubby keeps no change history and no conversation log"


def _clean_text(value: object, *, what: str, max_chars: int) -> str:
    """The text with surrounding whitespace removed, or :class:`InvalidInput` saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    text = value.strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is too long ({len(text):,} characters; the limit is {max_chars:,})")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise InvalidInput(f"{what} is not valid Unicode text")
        if category == "Cc" and char not in "\n\t":
            raise InvalidInput(f"{what} contains control characters")
    return text


class Hub:
    """Owns the backend and its threads. Get one with :func:`open_hub`."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.settings = settings
        self._backend = backend
        self._memory_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cubby-memory")
        self._extraction_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cubby-extract")
        self._embed_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cubby-embed")
        self._embed_queue = EmbedQueue(backend.prime, self._embed_threads, parallel=2)
        self._closed = False

    def scoped(self, key: UserKey) -> ScopedMemory:
        """The memory of one person, bound to ``key`` for good."""
        if not isinstance(key, UserKey):
            raise InvalidUserKey("a ScopedMemory needs a UserKey")
        return ScopedMemory(self, UserKey.parse(str(key)), _token=_HUB_ONLY)

    async def users_in_workspace(self, key_prefix: str) -> list[UserKey]:
        """Every person with stored memories whose key starts with ``key_prefix``, which must name
        a whole platform segment such as ``"slack:T0123ABCD:"`` (used to erase an uninstalled
        workspace)."""
        if not isinstance(key_prefix, str) or not key_prefix.endswith(":"):
            raise InvalidUserKey("a workspace prefix ends with ':'")
        users = await self._run(self._backend.users_with_prefix, key_prefix)
        keys = []
        for user in users:
            try:
                keys.append(UserKey.parse(user))
            except InvalidUserKey:
                log.error("a stored row has a non-canonical user key; skipped")
        return keys

    async def settle_erasure(self, timeout_seconds: float) -> bool:
        """Wait until every erasure is flushed to disk (another process's reader can hold that up);
        False if one is still pending after ``timeout_seconds``. For the operator command."""
        settle = getattr(self._backend, "settle", None)
        return True if settle is None else bool(await self._run(settle, timeout_seconds))

    async def _call(self, function: Callable[..., Any], *args: Any, extraction: bool = False) -> Any:
        """Await an async backend's method (network I/O, e.g. the hosted platform) on the loop; run a
        synchronous one (mem0's ``Memory``) on the memory thread, or the extraction thread."""
        if inspect.iscoroutinefunction(function):
            return await function(*args)
        thread = self._extraction_thread if extraction else self._memory_thread
        return await asyncio.get_running_loop().run_in_executor(thread, functools.partial(function, *args))

    async def _run(self, function: Callable[..., T], *args: Any, extraction: bool = False) -> T:
        if self._closed:
            raise BackendUnavailable("the memory hub is closed")
        try:
            return await self._call(function, *args, extraction=extraction)
        except CubbyError:
            raise
        except Exception as error:
            # The message may quote memory text; only the type is logged.
            log.error("memory backend failed: %s", type(error).__name__)
            raise BackendUnavailable("the memory store failed; nothing was changed") from error

    async def _embed_ahead(self, texts: list[str]) -> None:
        try:
            await self._embed_queue.embed(texts)
        except Exception as error:
            log.error("embedding failed: %s", type(error).__name__)
            raise BackendUnavailable("the embedding model failed; nothing was changed") from error

    async def close(self) -> None:
        if self._closed:
            return
        await asyncio.to_thread(self._extraction_thread.shutdown, True)  # a running extraction finishes
        await self._call(self._backend.close)
        self._closed = True
        self._memory_thread.shutdown(wait=True)
        self._embed_threads.shutdown(wait=True)


_HUB_ONLY = object()


class ScopedMemory:
    """One person's memories. Bound to one :class:`UserKey` when the hub makes it; no method takes a
    user id or a filter, so there is no way to reach anyone else's memories through it."""

    __slots__ = ("_hub", "_key", "_user")

    def __init__(self, hub: Hub, key: UserKey, *, _token: object = None) -> None:
        if _token is not _HUB_ONLY:
            raise TypeError("use hub.scoped(key) to get a ScopedMemory")
        self._hub = hub
        self._key = key
        self._user = str(key)

    @property
    def key(self) -> UserKey:
        return self._key

    def __repr__(self) -> str:
        return f"ScopedMemory({self._user!r})"

    def _messages(self, content: str | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        limit = self._hub.settings.max_memory_chars
        if isinstance(content, str):
            return [{"role": "user", "content": _clean_text(content, what="the memory", max_chars=limit)}]
        if not isinstance(content, Sequence) or not content or len(content) > 50:
            raise InvalidInput("messages must be a list of 1 to 50 {role, content} items")
        messages = []
        for message in content:
            if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
                raise InvalidInput("each message needs a role of 'user' or 'assistant'")
            text = _clean_text(message.get("content"), what="a message", max_chars=limit)
            messages.append({"role": message["role"], "content": text})
        return messages

    async def add(
        self,
        content: str | Sequence[Mapping[str, str]],
        *,
        source: Source | None = None,
        extract: bool = False,
    ) -> list[MemoryRecord]:
        """Remember ``content``: a text, or a list of ``{"role", "content"}`` messages.

        By default each text is stored as given. With ``extract=True`` the configured LLM picks out
        the durable facts (mem0 ``infer=True``) and only those are stored."""
        messages = self._messages(content)
        if extract and not self._hub.settings.llm_enabled:
            raise ConfigError("fact extraction needs an LLM; set OPENAI_API_KEY")
        metadata: dict[str, Any] = {"source": (source or Source("unknown")).to_dict()}
        metadata["source"].setdefault("at", utc_now().isoformat())
        metadata[BEGAN_AT] = time.time()  # the forget barrier: a forget after this point wins
        if not extract:
            await self._hub._embed_ahead([m["content"] for m in messages])
        return await self._hub._run(
            self._hub._backend.add, self._user, messages, metadata, extract, extraction=extract
        )

    async def search(self, query: str, *, limit: int = 5) -> list[MemoryRecord]:
        """This person's memories closest in meaning to ``query``, best first."""
        text = _clean_text(query, what="the search", max_chars=self._hub.settings.max_query_chars)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= _SEARCH_LIMIT_MAX:
            raise InvalidInput(f"the number of results must be between 1 and {_SEARCH_LIMIT_MAX}")
        await self._hub._embed_ahead([text])
        return await self._hub._run(self._hub._backend.search, self._user, text, limit)

    async def get_all(self) -> list[MemoryRecord]:
        """Every memory of this person, oldest first."""
        return await self._hub._run(self._hub._backend.get_all, self._user)

    async def count(self) -> int:
        return await self._hub._run(self._hub._backend.count, self._user)

    async def get(self, memory_id: str) -> MemoryRecord | None:
        """The memory with this id if it is this person's; otherwise None, whoever else's it is."""
        if not is_memory_id(memory_id):
            return None
        return await self._hub._run(self._hub._backend.get, self._user, memory_id)

    async def delete(self, memory_id: str) -> bool:
        """Erase one memory. True if it was this person's; someone else's id is an unknown id."""
        if not is_memory_id(memory_id):
            return False
        return await self._hub._run(self._hub._backend.delete, self._user, memory_id)

    async def delete_all(self) -> int:
        """Erase everything held about this person; returns how many memories there were."""
        return await self._hub._run(self._hub._backend.delete_all, self._user)

    async def export(self) -> dict[str, Any]:
        """Everything Cubby holds about this person, as a JSON-serialisable document."""
        records = await self.get_all()
        return {
            "format": EXPORT_FORMAT,
            "user": self._user,
            "exported_at": utc_now().isoformat(),
            "count": len(records),
            "memories": [record.to_dict() for record in records],
            "also_held": getattr(self._hub._backend, "also_held", _NOTHING_ELSE_HELD),
        }


@asynccontextmanager
async def open_hub(
    data_dir: str | Path | None = None, *, settings: Settings | None = None
) -> AsyncIterator[Hub]:
    """Open the configured memory backend: the embedded SQLite store unless ``CUBBY_BACKEND`` says
    ``postgres`` or ``hosted`` (see :mod:`core.memory.backends`)."""
    settings = settings or load_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    hub = Hub(await open_backend(settings), settings)
    try:
        yield hub
    finally:
        await hub.close()

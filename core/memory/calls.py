"""What a :class:`core.memory.hub.ScopedMemory` is built from: input checks, the guarded calls to
the backend, and the values its edit and import hand back."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from core.errors import BackendUnavailable, CubbyError, InvalidInput
from core.memory.backends import Backend
from core.memory.posts import PostRef, PostStore
from core.memory.prefs import PersonSettings
from core.records import MemoryRecord, Source, expiry_text, utc_now

log = logging.getLogger("core.memory.hub")
P = ParamSpec("P")
T = TypeVar("T")


def clean_text(value: object, *, what: str, max_chars: int) -> str:
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


@dataclass(frozen=True, slots=True)
class Edited:
    """An edit: the memory with its new text (None when the id was not this person's), and the
    posts that quoted the old text, which the adapter deletes on the platform."""

    record: MemoryRecord | None
    posts: list[PostRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Restored:
    """An import: how many memories were added, and how many were skipped because the person
    already has them (the same text) or because they have expired."""

    added: int
    already_held: int = 0
    expired: int = 0


def live(records: list[MemoryRecord]) -> list[MemoryRecord]:
    """Expired memories are erased by the sweeper; until it runs, they are not shown either."""
    now = utc_now()
    return [record for record in records if not record.expired(now)]


class BackendCalls:
    """The hub's backend as a :class:`ScopedMemory` uses it: refused once the hub is closed, and any
    failure that is not one of Cubby's own errors becomes :class:`BackendUnavailable`, with only its
    type logged (the message may quote memory text)."""

    def __init__(self, backend: Backend, posts: PostStore) -> None:
        self.backend = backend
        self.posts = posts
        self.closed = False

    async def run(self, method: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.closed:
            raise BackendUnavailable("the memory hub is closed")
        try:
            return await method(*args, **kwargs)
        except CubbyError:
            raise
        except Exception as error:
            log.error("memory backend failed: %s", type(error).__name__)
            raise BackendUnavailable("the memory store failed; nothing was changed") from error

    async def run_blocking(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """:meth:`run` for a synchronous call (the post-reference store), on a worker thread."""
        return await self.run(asyncio.to_thread, function, *args, **kwargs)

    async def person_settings(self, user: str) -> PersonSettings:
        """Read on every /remember: at once when the post store can answer without waiting on
        anything, else on a thread."""
        at_once = None if self.closed else self.posts.person_settings_at_once(user)
        return at_once if at_once is not None else await self.run_blocking(self.posts.person_settings, user)

    async def copy_records(self, records: list[MemoryRecord], user: str) -> dict[str, str]:
        """Add ``records`` for ``user`` (new ids, the same text, source and expiry); the new id of
        each old one. If an add fails, the copies already made are erased again."""
        renamed: dict[str, str] = {}
        try:
            for record in records:
                metadata = stored_metadata(record.source or Source("unknown"), record.expires_at)
                message = [{"role": "user", "content": record.text}]
                added: list[MemoryRecord] = await self.run(self.backend.add, user, message, metadata, False)
                if added:
                    renamed[record.id] = added[0].id
        except Exception:
            for copied in renamed.values():
                await self.run(self.backend.delete, user, copied)
            raise
        return renamed

    async def embed_ahead(self, texts: list[str]) -> None:
        try:
            await self.backend.prime(texts)
        except Exception as error:
            log.error("embedding failed: %s", type(error).__name__)
            raise BackendUnavailable("the embedding model failed; nothing was changed") from error


def stored_metadata(source: Source, expires_at: datetime | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"source": source.to_dict()}
    if expires_at is not None:
        metadata["expires_at"] = expiry_text(expires_at)
    return metadata

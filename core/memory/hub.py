"""The hub: the one memory engine of a process, and the only way to get a :class:`ScopedMemory`.

The hub validates input and binds each :class:`ScopedMemory` to one key; the backend it holds does
the work behind one async contract (:class:`core.memory.backends.protocol.Backend`), whichever
backend it is. How mem0's synchronous ``Memory`` is kept off the event loop, and why, is in
:mod:`core.memory.backends.threaded`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from core.config import ConfigError, Settings, load_settings
from core.errors import InvalidInput, InvalidUserKey
from core.keys import UserKey
from core.memory.backends import Backend, open_backend
from core.memory.calls import BackendCalls, Edited, Restored, clean_text, live, stored_metadata
from core.memory.crypto.keyring import BEGAN_AT
from core.memory.posts import Erased, PostRef, PostStore, open_post_store
from core.memory.prefs import PersonSettings
from core.memory.sweeper import PostsHandler, run_sweeper
from core.records import MemoryRecord, Source, is_memory_id, utc_now

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

_ROLES = ("user", "assistant")
_SEARCH_LIMIT_MAX = 100
EXPORT_FORMAT = "cubby.export.v1"


class Hub:
    """Owns the backend. Get one with :func:`open_hub`."""

    def __init__(self, backend: Backend, settings: Settings, *, posts: PostStore | None = None) -> None:
        self.settings = settings
        self._backend = backend
        self._posts = posts if posts is not None else open_post_store(settings)
        self._calls = BackendCalls(backend, self._posts)
        self._migrating = asyncio.Lock()
        #: Set by an adapter to delete, on its platform, the posts quoting memories the sweeper erased.
        self.erased_posts: PostsHandler | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def start_sweeper(self) -> None:
        """Erase expired memories now and every ``CUBBY_SWEEP_SECONDS`` (see
        :mod:`core.memory.sweeper`); :func:`open_hub` calls it."""
        if self._sweeper is None and self.settings.sweep_seconds > 0:
            self._sweeper = asyncio.create_task(run_sweeper(self, self.settings.sweep_seconds))

    def scoped(self, key: UserKey) -> ScopedMemory:
        """The memory of one person, bound to ``key`` for good."""
        if not isinstance(key, UserKey):
            raise InvalidUserKey("a ScopedMemory needs a UserKey")
        return ScopedMemory(self._calls, self.settings, UserKey.parse(str(key)), _token=_HUB_ONLY)

    async def users_in_workspace(self, key_prefix: str) -> list[UserKey]:
        """Every person with stored memories whose key starts with ``key_prefix``, which must name
        a whole platform segment such as ``"slack:T0123ABCD:"`` (used to erase an uninstalled
        workspace)."""
        if not isinstance(key_prefix, str) or not key_prefix.endswith(":"):
            raise InvalidUserKey("a workspace prefix ends with ':'")
        users = await self._calls.run(self._backend.users_with_prefix, key_prefix)
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
        return await self._calls.run(self._backend.settle, timeout_seconds)

    async def migrate(self, old: UserKey, new: UserKey) -> int:
        """Move every memory of ``old`` to ``new``, and the references to posts that quoted them;
        returns how many memories moved. Only for one case, enforced here: a Slack workspace that
        joined an Enterprise Grid organisation, whose person ``slack:<team>:<user>`` is now
        ``slack:<enterprise>:<user>`` - the same user id. The Slack adapter calls it only when a
        signed payload states that the team is part of that organisation.

        Memories are re-added under ``new`` (new ids, the same text and source) and then erased
        under ``old``; if any add fails, the ones already added are erased again and ``old`` keeps
        everything. Concurrent migrations run one at a time, so a second call finds nothing left."""
        if not (isinstance(old, UserKey) and isinstance(new, UserKey)):
            raise InvalidUserKey("a migration needs two user keys")
        moving_within_slack = old.platform == new.platform == "slack" and old.parts[1] == new.parts[1]
        if not moving_within_slack or not old.parts[0].startswith("T") or not new.parts[0].startswith("E"):
            raise InvalidUserKey("only a Slack team's person can move to their Enterprise Grid key")
        if await self._calls.run(self._backend.count, str(old)) == 0:
            return 0  # the usual case; a move in progress still counts every memory until its end
        async with self._migrating:
            records: list[MemoryRecord] = await self._calls.run(self._backend.get_all, str(old))
            if records:
                await self._calls.embed_ahead([record.text for record in records])
            renamed = await self._calls.copy_records(records, str(new))
            await self._calls.run_blocking(self._posts.move, str(old), str(new), renamed)
            held = await self._calls.run_blocking(self._posts.person_settings, str(old))
            await self._calls.run_blocking(self._posts.set_person_settings, str(new), held)
            await self._calls.run_blocking(self._posts.erase_person_settings, str(old))
            if records:
                await self._calls.run(self._backend.delete_all, str(old))
        return len(records)

    @property
    def calls(self) -> BackendCalls:
        """The backend and side stores, for :mod:`core.memory.sweeper` (which is part of the hub)."""
        return self._calls

    async def close(self) -> None:
        if self._calls.closed:
            return
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
        await self._backend.close()
        await asyncio.to_thread(self._posts.close)
        self._calls.closed = True


_HUB_ONLY = object()


class ScopedMemory:
    """One person's memories. Bound to one :class:`UserKey` when the hub makes it; no method takes a
    user id or a filter, so there is no way to reach anyone else's memories through it."""

    __slots__ = ("_backend", "_calls", "_key", "_settings", "_user")

    def __init__(
        self, calls: BackendCalls, settings: Settings, key: UserKey, *, _token: object = None
    ) -> None:
        if _token is not _HUB_ONLY:
            raise TypeError("use hub.scoped(key) to get a ScopedMemory")
        self._calls = calls
        self._backend = calls.backend
        self._settings = settings
        self._key = key
        self._user = str(key)

    @property
    def key(self) -> UserKey:
        return self._key

    @property
    def limits(self) -> tuple[int, int]:
        """How many memories this person may keep, and how long each may be."""
        return self._settings.max_memories_per_user, self._settings.max_memory_chars

    def __repr__(self) -> str:
        return f"ScopedMemory({self._user!r})"

    def _messages(self, content: str | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        limit = self._settings.max_memory_chars
        if isinstance(content, str):
            return [{"role": "user", "content": clean_text(content, what="the memory", max_chars=limit)}]
        if not isinstance(content, Sequence) or not content or len(content) > 50:
            raise InvalidInput("messages must be a list of 1 to 50 {role, content} items")
        messages = []
        for message in content:
            if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
                raise InvalidInput("each message needs a role of 'user' or 'assistant'")
            text = clean_text(message.get("content"), what="a message", max_chars=limit)
            messages.append({"role": message["role"], "content": text})
        return messages

    async def add(
        self,
        content: str | Sequence[Mapping[str, str]],
        *,
        source: Source | None = None,
        extract: bool = False,
        expires_at: datetime | None = None,
    ) -> list[MemoryRecord]:
        """Remember ``content``: a text, or a list of ``{"role", "content"}`` messages.

        By default each text is stored as given. With ``extract=True`` the configured LLM picks out
        the durable facts (mem0 ``infer=True``) and only those are stored. ``expires_at`` (or else
        the person's default expiry) is when the sweeper erases what was stored."""
        messages = self._messages(content)
        if extract and not self._settings.llm_enabled:
            raise ConfigError("fact extraction needs an LLM; set OPENAI_API_KEY")
        if expires_at is not None and expires_at <= utc_now():
            raise InvalidInput("that expiry has already passed - an expiry must be in the future")
        if expires_at is None:
            days = (await self.settings()).expiry_days
            expires_at = utc_now() + timedelta(days=days) if days else None
        arrived = (source or Source("unknown")).arrived("extracted" if extract else "typed")
        metadata = stored_metadata(arrived, expires_at)
        metadata["source"].setdefault("at", utc_now().isoformat())
        metadata[BEGAN_AT] = time.time()  # the forget barrier: a forget after this point wins
        if not extract:
            await self._calls.embed_ahead([m["content"] for m in messages])
        return await self._calls.run(self._backend.add, self._user, messages, metadata, extract)

    async def search(self, query: str, *, limit: int = 5) -> list[MemoryRecord]:
        """This person's memories closest in meaning to ``query``, best first."""
        text = clean_text(query, what="the search", max_chars=self._settings.max_query_chars)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= _SEARCH_LIMIT_MAX:
            raise InvalidInput(f"the number of results must be between 1 and {_SEARCH_LIMIT_MAX}")
        await self._calls.embed_ahead([text])
        return live(await self._calls.run(self._backend.search, self._user, text, limit))

    async def get_all(self) -> list[MemoryRecord]:
        """Every memory of this person, oldest first."""
        return live(await self._calls.run(self._backend.get_all, self._user))

    async def page(self, page: int, size: int) -> tuple[list[MemoryRecord], int, int]:
        """Page ``page`` (from 1; a page past the end is the last one) of ``size`` of this person's
        memories, oldest first; with how many there are and the page it is."""
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (page, size)) or size < 1:
            raise TypeError("a page and its size are whole numbers")  # a caller's bug, not the store's
        records, total, shown = await self._calls.run(self._backend.page, self._user, page, size)
        return live(records), total, shown

    async def count(self) -> int:
        return await self._calls.run(self._backend.count, self._user)

    async def get(self, memory_id: str) -> MemoryRecord | None:
        """The memory with this id if it is this person's; otherwise None, whoever else's it is."""
        if not is_memory_id(memory_id):
            return None
        found = await self._calls.run(self._backend.get, self._user, memory_id)
        return found if found is not None and not found.expired() else None

    async def update(self, memory_id: str, text: str) -> Edited:
        """Give one of this person's memories a new text. The old text is erased as a forget
        erases it, and the posts that quoted it are handed back for the adapter to delete.
        Someone else's id is an unknown id: nothing changes and the record is None."""
        text = clean_text(text, what="the memory", max_chars=self._settings.max_memory_chars)
        if await self.get(memory_id) is None:
            return Edited(None)
        await self._calls.embed_ahead([text])
        record = await self._calls.run(self._backend.update, self._user, memory_id, text)
        if record is None:
            return Edited(None)  # erased meanwhile
        posts = self._calls.posts
        return Edited(record, await self._calls.run_blocking(posts.take_quoting, self._user, memory_id))

    async def restore(self, records: Sequence[MemoryRecord]) -> Restored:
        """Add memories from an export of this person's (already validated, see
        :mod:`core.imports`) with their text, source and expiry, under this person's key only.
        A memory whose text the person already has is skipped, so importing twice adds nothing."""
        held = {record.text for record in await self.get_all()}
        now, fresh, expired = utc_now(), [], 0
        for record in records:
            if record.expired(now):
                expired += 1
            elif record.text not in held:
                held.add(record.text)
                fresh.append(record)
        metadata = [
            stored_metadata((r.source or Source("unknown")).arrived("imported"), r.expires_at) for r in fresh
        ]
        began = time.time()  # the forget barrier, as for an add: a forget after this point wins
        for extra in metadata:
            extra[BEGAN_AT] = began
        if fresh:
            await self._calls.embed_ahead([record.text for record in fresh])
            await self._calls.run(self._backend.restore, self._user, fresh, metadata)
        return Restored(len(fresh), len(records) - len(fresh) - expired, expired)

    # -- the person's own settings -----------------------------------------------------------------
    async def settings(self) -> PersonSettings:
        return await self._calls.person_settings(self._user)

    async def _change(self, **changes: Any) -> PersonSettings:
        current = await self.settings()
        updated = PersonSettings(
            changes.get("paused", current.paused), changes.get("expiry_days", current.expiry_days)
        )
        await self._calls.run_blocking(self._calls.posts.set_person_settings, self._user, updated)
        return updated

    async def pause(self) -> PersonSettings:
        """Stop learning from this person's conversations; /remember still works."""
        return await self._change(paused=True)

    async def resume(self) -> PersonSettings:
        return await self._change(paused=False)

    async def set_default_expiry(self, days: int | None) -> PersonSettings:
        """New memories expire after ``days`` days unless the person says otherwise; None: keep."""
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650
        ):
            raise InvalidInput("a default expiry is between 1 day and 10 years")
        return await self._change(expiry_days=days)

    async def delete(self, memory_id: str) -> bool:
        """Erase one memory. True if it was this person's; someone else's id is an unknown id."""
        return bool((await self.erase_one(memory_id)).count)

    async def delete_all(self) -> int:
        """Erase everything held about this person; returns how many memories there were."""
        return (await self.erase_everything()).count

    async def erase_one(self, memory_id: str) -> Erased:
        """Erase one memory, and hand back the posts that quoted it for the adapter to delete."""
        if not is_memory_id(memory_id):
            return Erased(0)
        posts = self._calls.posts
        # References are taken before and after the erasure: a post recorded meanwhile is taken by
        # the second sweep, or finds its memory gone (see record_post) - never left behind.
        quoting = await self._calls.run_blocking(posts.take_quoting, self._user, memory_id)
        erased = await self._calls.run(self._backend.delete, self._user, memory_id)
        quoting += await self._calls.run_blocking(posts.take_quoting, self._user, memory_id)
        return Erased(int(erased), quoting)

    async def erase_everything(self) -> Erased:
        """Erase everything held about this person - memories and post references - and hand back
        the posts, for the adapter to delete on the platform."""
        posts = self._calls.posts
        taken = await self._calls.run_blocking(posts.take_all, self._user)
        count = await self._calls.run(self._backend.delete_all, self._user)
        taken += await self._calls.run_blocking(posts.take_all, self._user)
        await self._calls.run_blocking(posts.erase_person_settings, self._user)
        return Erased(count, taken)

    async def record_post(self, ref: PostRef, memory_ids: Sequence[str]) -> bool:
        """Remember that Cubby posted ``ref``, quoting these memories of this person.

        False when one of them was erased in the meantime: the reference is dropped again and the
        caller must delete the post now, since no forget will come for it."""
        if not isinstance(ref, PostRef):
            raise InvalidInput("not a post reference")
        ids = sorted({i for i in memory_ids if is_memory_id(i)})
        if not ids:
            return True  # it quotes no memory: nothing to delete on a forget
        await self._calls.run_blocking(self._calls.posts.add, self._user, ref, ids)
        if await self._all_held(ids):
            return True
        await self._calls.run_blocking(self._calls.posts.discard, self._user, ref)
        return False

    async def _all_held(self, memory_ids: list[str]) -> bool:
        if len(memory_ids) <= 5:
            return all([await self.get(memory_id) is not None for memory_id in memory_ids])
        return set(memory_ids) <= {record.id for record in await self.get_all()}

    async def posts(self) -> list[PostRef]:
        """Every post Cubby keeps a reference to for this person."""
        return await self._calls.run_blocking(self._calls.posts.held, self._user)

    async def export(self) -> dict[str, Any]:
        """Everything Cubby holds about this person, as a JSON-serialisable document."""
        memories = await self._calls.run(self._backend.exported, self._user)
        settings = await self.settings()
        return {
            "format": EXPORT_FORMAT,
            "user": self._user,
            "exported_at": utc_now().isoformat(),
            "count": len(memories),
            "memories": memories,
            "settings": {"paused": settings.paused, "expiry_days": settings.expiry_days},
            # What Cubby posted that quotes this person's memories: deleted when they forget.
            "posts": [post.to_dict() for post in await self.posts()],
            "also_held": self._backend.also_held,
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
    backend = await open_backend(settings)
    hub = Hub(backend, settings, posts=await asyncio.to_thread(open_post_store, settings))
    hub.start_sweeper()
    # What start-up loaded (mem0, pydantic models, the model's session: ~180K objects) lives as long
    # as the process; set apart from the collector, a full collection - which a heavy person's
    # listing sets off - does not walk it every time (it took 50-100 ms of an export of 5,000).
    gc.freeze()
    try:
        yield hub
    finally:
        await hub.close()

"""Erasing what has expired: memories past their expiry, and memories older than a workspace's
retention. Both erase through :meth:`ScopedMemory.erase_one`, the path of ``/forget``.

Every process runs the sweeper (``open_hub`` starts it), and that is safe: a sweep only reads which
memories are due and erases each by id, owner-checked; when two processes erase the same memory,
the second finds nothing and counts nothing. Posts that quoted a swept memory are handed to the
hub's ``erased_posts`` handler when an adapter installed one (it deletes them on its platform).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.errors import InvalidInput
from core.keys import UserKey
from core.memory.posts import PostRef
from core.records import MemoryRecord, expiry_text, utc_now

if TYPE_CHECKING:
    from core.memory.hub import Hub, ScopedMemory

log = logging.getLogger(__name__)

PostsHandler = Callable[[UserKey, list[PostRef]], Awaitable[None]]
GUILD_SCOPE = "discord-guild:"
MAX_RETENTION_DAYS = 3650


def retention_scope(platform: str, workspace: str) -> str:
    """The scope of a workspace's retention rule: a Slack team or enterprise id is part of every
    key made there, so the rule is that key prefix; Discord keys name no server, so the rule
    names the server and applies to memories whose source says they were made in it."""
    if platform == "slack" and workspace.isalnum():
        return f"slack:{workspace}:"
    if platform == "discord" and workspace.isdigit():
        return f"{GUILD_SCOPE}{workspace}"
    raise InvalidInput("not a workspace Cubby knows")


async def _erase(hub: Hub, key: UserKey, memory_ids: list[str], on_posts: PostsHandler | None) -> int:
    memory = hub.scoped(key)
    erased, posts = 0, []
    for memory_id in memory_ids:
        result = await memory.erase_one(memory_id)
        erased += result.count
        posts += result.posts
    if posts and on_posts is not None:
        await on_posts(key, posts)
    return erased


async def sweep_expired(hub: Hub, now: datetime | None = None) -> int:
    """Erase every memory whose expiry is at or before ``now``; how many this call erased."""
    due = await hub.calls.run(hub.calls.backend.expired, expiry_text(now or utc_now()))
    by_user: dict[str, list[str]] = {}
    for user, memory_id in due:
        by_user.setdefault(user, []).append(memory_id)
    erased = 0
    for user, ids in by_user.items():
        try:
            key = UserKey.parse(user)
        except Exception:
            log.error("a stored row has a non-canonical user key; skipped")
            continue
        erased += await _erase(hub, key, ids, hub.erased_posts)
    return erased


async def _in_scope(hub: Hub, scope: str) -> list[tuple[ScopedMemory, list[MemoryRecord]]]:
    if scope.startswith(GUILD_SCOPE):
        guild = scope.removeprefix(GUILD_SCOPE)
        people = await hub.users_in_workspace("discord:")
        found = []
        for key in people:
            memory = hub.scoped(key)
            made_there = [r for r in await memory.get_all() if r.source and r.source.workspace == guild]
            found.append((memory, made_there))
        return found
    return [(hub.scoped(key), await hub.scoped(key).get_all()) for key in await hub.users_in_workspace(scope)]


def _older_than(records: list[MemoryRecord], cutoff: datetime) -> list[str]:
    return [r.id for r in records if r.created_at is not None and r.created_at < cutoff]


async def count_older(hub: Hub, scope: str, days: int, now: datetime | None = None) -> int:
    """How many memories of the scope are older than ``days`` days (a count, never any content)."""
    cutoff = (now or utc_now()) - timedelta(days=days)
    return sum(len(_older_than(records, cutoff)) for _, records in await _in_scope(hub, scope))


async def apply_retention(hub: Hub, scope: str, days: int, now: datetime | None = None) -> int:
    """Erase the scope's memories older than ``days`` days; how many this call erased."""
    cutoff = (now or utc_now()) - timedelta(days=days)
    erased = 0
    for memory, records in await _in_scope(hub, scope):
        erased += await _erase(hub, memory.key, _older_than(records, cutoff), hub.erased_posts)
    return erased


async def set_retention(hub: Hub, scope: str, days: int | None) -> int:
    """Set (or with None, remove) a scope's retention, and apply it now; how many were erased."""
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise InvalidInput("retention is a whole number of days")
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention is between 1 and {MAX_RETENTION_DAYS} days")
    await hub.calls.run_blocking(hub.calls.posts.set_retention, scope, days)
    return await apply_retention(hub, scope, days) if days is not None else 0


async def retention_of(hub: Hub, scope: str) -> int | None:
    rules = dict(await hub.calls.run_blocking(hub.calls.posts.retention_rules))
    return rules.get(scope)


async def sweep(hub: Hub, *, with_retention: bool = True) -> int:
    """One sweep: expired memories, then (when asked) every retention rule."""
    erased = await sweep_expired(hub)
    if with_retention:
        for scope, days in await hub.calls.run_blocking(hub.calls.posts.retention_rules):
            erased += await apply_retention(hub, scope, days)
    return erased


async def run_sweeper(hub: Hub, interval: float, retention_every: int = 60) -> None:
    """Sweep every ``interval`` seconds until cancelled; retention rules every ``retention_every``
    sweeps (they list whole workspaces). A failed sweep is logged by type and retried next time."""
    rounds = 0
    while True:
        try:
            erased = await sweep(hub, with_retention=rounds % retention_every == 0)
            if erased:
                log.info("the sweeper erased %d expired memories", erased)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("a sweep failed and will be retried: %s", type(error).__name__)
        rounds += 1
        await asyncio.sleep(interval)

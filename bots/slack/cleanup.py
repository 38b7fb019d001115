"""Forget reaches Slack: deleting what Cubby posted that quoted forgotten memories, and recording
those posts in the first place.

Cubby's DM answers that quote memories and the export files it uploads to a DM stay on Slack after
the memories are erased unless Cubby deletes them (people cannot delete a bot's messages). So each one
is recorded (its reference, never its text) through the person's :class:`ScopedMemory` when it is
posted, and deleted with ``chat.delete`` / ``files.delete`` - which a bot token with ``chat:write``
and ``files:write`` may do for its own messages and files - when the memories it quoted are forgotten.
Ephemeral replies are never stored by Slack, so they need nothing.

Slack's rate limits are honoured: a 429 answer is retried after its ``Retry-After`` seconds (a few
times, never for long). A message or file that is already gone counts as removed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.services import slack_error_code
from core import PostRef, ScopedMemory, commands, replies

log = logging.getLogger(__name__)

ATTEMPTS = 4
LONGEST_WAIT_SECONDS = 30.0
ALREADY_GONE = {"message_not_found", "file_not_found", "file_deleted"}
REASONS = {
    "cant_delete_message": "Slack no longer lets me delete it",
    "cant_delete_file": "Slack no longer lets me delete it",
    "channel_not_found": "the conversation is gone",
    "not_in_channel": "I am no longer in that conversation",
    "ratelimited": "Slack kept asking me to slow down",
}


@dataclass
class Removal:
    """The outcome of deleting a forget's posts: how many are gone, and why the others are not."""

    removed: int = 0
    not_removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return replies.posts_removed(self.removed, self.not_removed)


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return min(max(float(value), 0.0), LONGEST_WAIT_SECONDS)
            except (TypeError, ValueError):
                break
    return 1.0


async def with_retries(call: Callable[[], Awaitable[Any]]) -> Any:
    """``call()``, retried after Slack's ``Retry-After`` when Slack answers 429."""
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except SlackApiError as error:
            if getattr(error.response, "status_code", None) != 429 or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(_retry_after(getattr(error.response, "headers", None)))
    raise AssertionError("unreachable")


def _describe(post: PostRef) -> str:
    what = "a file" if post.kind == "file" else "a message"
    return f"{what} from {post.posted_at:%Y-%m-%d}" if post.posted_at else what


async def _delete(client: AsyncWebClient, post: PostRef) -> None:
    if post.kind == "file":
        await with_retries(lambda: client.files_delete(file=post.id))
    else:
        await with_retries(lambda: client.chat_delete(channel=post.channel, ts=post.id))


async def delete_posts(client: AsyncWebClient, posts: Iterable[PostRef]) -> Removal:
    """Delete each of Cubby's Slack ``posts``; never raises."""
    removal = Removal()
    for post in posts:
        if post.platform != "slack":
            continue
        try:
            await _delete(client, post)
        except SlackApiError as error:
            code = slack_error_code(error)
            if code in ALREADY_GONE:
                removal.removed += 1
                continue
            log.warning("could not delete a post of Cubby's: %s", code)
            removal.not_removed.append(f"{_describe(post)} ({REASONS.get(code, 'Slack said ' + code)})")
        except Exception as error:
            log.warning("could not delete a post of Cubby's: %s", type(error).__name__)
            removal.not_removed.append(f"{_describe(post)} (Slack could not be reached)")
        else:
            removal.removed += 1
    return removal


async def keep_track(
    client: AsyncWebClient, memory: ScopedMemory, post: PostRef, memory_ids: Iterable[str]
) -> None:
    """Record that ``post`` quotes these memories; if one was forgotten meanwhile, delete it now."""
    if not await memory.record_post(post, list(memory_ids)):
        await delete_posts(client, [post])


async def forget(
    client: AsyncWebClient,
    memory: ScopedMemory,
    memory_id: str | None = None,
    *,
    earlier: ScopedMemory | None = None,
) -> str:
    """Forget one memory (or everything, without ``memory_id``, including what is left under the
    person's ``earlier`` key) and delete the posts that quoted it; the reply for the person, saying
    what was erased and which posts could not be deleted."""
    if memory_id is None:
        erased = await commands.erase_everything(memory)
        count, posts = erased.count, list(erased.posts)
        if earlier is not None:
            left = await commands.erase_everything(earlier)
            count, posts = count + left.count, posts + left.posts
    else:
        erased = await commands.erase_one(memory, memory_id)
        count, posts = erased.count, erased.posts
    removal = await delete_posts(client, posts)
    return " ".join(part for part in (replies.forgotten(count), removal.summary()) if part)

"""Forget reaches Discord: deleting the DM answers Cubby sent that quoted forgotten memories.

A DM answer that quotes memories stays in the person's DM with Cubby after the memories are erased
unless Cubby deletes it (nobody can delete another user's DM messages). So each one is recorded - its
channel and message id, never its text - through the person's :class:`ScopedMemory` when it is sent,
and deleted when a memory it quoted is forgotten. Ephemeral interaction replies are not kept by
Discord. discord.py waits out Discord's rate limits itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord

from core import PostRef, ScopedMemory, commands, replies

log = logging.getLogger(__name__)


async def delete_posts(client: discord.Client, posts: Iterable[PostRef]) -> tuple[int, list[str]]:
    """Delete Cubby's Discord ``posts``: (how many are gone, a description of each that is not)."""
    removed, not_removed = 0, []
    for post in posts:
        if post.platform != "discord":
            continue
        message = client.get_partial_messageable(int(post.channel)).get_partial_message(int(post.id))
        try:
            await message.delete()
        except discord.NotFound:
            removed += 1  # already gone
        except discord.HTTPException as error:
            log.warning("could not delete a DM message of Cubby's: %s", type(error).__name__)
            when = f" from {post.posted_at:%Y-%m-%d}" if post.posted_at else ""
            not_removed.append(f"a message{when} (Discord refused: {error.status})")
        else:
            removed += 1
    return removed, not_removed


async def keep_track(
    client: discord.Client, memory: ScopedMemory, sent: Iterable[discord.Message], memory_ids: list[str]
) -> None:
    """Record the DM messages of an answer that quoted these memories; if one of the memories was
    forgotten meanwhile, delete the messages now."""
    for message in sent:
        post = PostRef("discord", "message", str(message.channel.id), str(message.id))
        if not await memory.record_post(post, memory_ids):
            await delete_posts(client, [post])


async def forget(client: discord.Client, memory: ScopedMemory, memory_id: str | None = None) -> str:
    """Forget one memory (or everything, without ``memory_id``) and delete the DM answers that quoted
    it; the reply for the person."""
    if memory_id is None:
        erased = await commands.erase_everything(memory)
    else:
        erased = await commands.erase_one(memory, memory_id)
    removed, not_removed = await delete_posts(client, erased.posts)
    parts = (replies.forgotten(erased.count), replies.posts_removed(removed, not_removed))
    return " ".join(part for part in parts if part)

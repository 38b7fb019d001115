"""Who is asking: the one place a Discord user becomes a Cubby user key.

Discord user ids are global, so the key has no server part: a person's memory is the same in every
server they share with Cubby and in DMs.
"""

from __future__ import annotations

import discord

from core import Hub, ScopedMemory, Source, UserKey


def user_key(user: discord.abc.User) -> UserKey:
    return UserKey.discord(user.id)


def memory_of(hub: Hub, user: discord.abc.User) -> ScopedMemory:
    """The memory of ``user`` - the person who sent the message or pressed the button, never anyone
    named in a payload's data."""
    return hub.scoped(user_key(user))


def source_of(channel_id: int | None, *, in_guild: bool, guild_id: int | None = None) -> Source:
    """Where something was said: the channel id in a server, ``"dm"`` in a direct message; and the
    server, so that server's retention rule applies to it."""
    channel = str(channel_id) if in_guild and channel_id else "dm"
    return Source("discord", channel, workspace=str(guild_id) if in_guild and guild_id else None)

"""The "Remember this" message command (right-click a message -> Apps -> Remember this) and its Undo.

Discord puts the whole message the person pointed at into the interaction (``resolved.messages``), so
Cubby reads it without the Message Content intent and without being in the server (a user install).
The text is saved under the key of the person who ran the command - never its author's - with the
channel, a link to the message and, when someone else wrote it, the author's user id. The reply is
ephemeral.

The Undo button survives restarts: it is a :class:`discord.ui.DynamicItem` whose custom id is
``cubby:undo:<memory id>`` (an action and an id, never memory text), registered again in every
``setup_hook``. What it erases is looked up in the memory of the person who pressed it, so a crafted
press can only ever touch the presser's own memories.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Protocol, runtime_checkable

import discord
from discord import app_commands

from bots.discord import cleanup, respond
from bots.discord.boundary import contain
from bots.discord.identity import memory_of
from bots.discord.lifecycle import admit
from bots.discord.render import Reply, escape, shorten
from core import Hub, SeenMessage, saved_messages

COMMAND_NAME = "Remember this"
UNDO_PREFIX = "cubby:undo:"
# How much of the saved message the confirmation quotes, so it and the button fit one message.
SHOWN_CHARS = 1500


@runtime_checkable
class HasHub(Protocol):
    hub: Hub


def seen_message(message: discord.Message) -> SeenMessage:
    """The message as Cubby can keep it: its text, and whether it carries anything besides text."""
    extras = message.attachments or message.embeds or message.stickers
    return SeenMessage(message.content or "", has_attachments=bool(extras), author=str(message.author.id))


def permalink(guild_id: int | None, message: discord.Message) -> str:
    """The link Discord's own "Copy Message Link" gives. Built from the interaction's server, which is
    known even in a server Cubby is not a member of (where ``message.guild`` is not)."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{message.channel.id}/{message.id}"


class UndoButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cubby:undo:(?P<id>[0-9a-f-]{36})"
):
    """Undo a "Remember this": erase that memory - in the presser's own memory only."""

    def __init__(self, memory_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=saved_messages.UNDO_LABEL,
                style=discord.ButtonStyle.secondary,
                custom_id=UNDO_PREFIX + memory_id,
            )
        )
        self.memory_id = memory_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UndoButton:
        return cls(match["id"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await admit(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        try:
            if not isinstance(client, HasHub):
                raise RuntimeError("an Undo press reached a client without Cubby's hub")
            memory = memory_of(client.hub, interaction.user)

            async def undo() -> Reply:
                return Reply(await cleanup.forget(client, memory, self.memory_id))

            await respond.update(interaction, undo(), defer_after=_defer_after(client))
        except Exception as error:
            await contain("an Undo button", error, functools.partial(respond.apologise, interaction))


def _defer_after(client: object) -> float:
    timing = getattr(client, "timing", None)
    return timing.defer_after if isinstance(timing, respond.Timing) else respond.Timing().defer_after


def undo_view(memory_id: str) -> discord.ui.View:
    """The confirmation's one button. ``timeout=None``: it stays usable as long as the message exists."""
    view = discord.ui.View(timeout=None)
    view.add_item(UndoButton(memory_id))
    return view


def remember_this_command(hub: Hub, timing: respond.Timing) -> app_commands.ContextMenu:
    """The message command; contexts and install types come from the tree's defaults."""

    async def remember_this(interaction: discord.Interaction, message: discord.Message) -> None:
        memory = memory_of(hub, interaction.user)
        seen = seen_message(message)

        async def work() -> Reply:
            in_guild = interaction.guild_id is not None
            source = saved_messages.provenance(
                "discord",
                seen,
                str(interaction.user.id),
                channel=str(message.channel.id) if in_guild else "dm",
                permalink=permalink(interaction.guild_id, message),
            )
            limit = hub.settings.max_memory_chars
            record = await saved_messages.remember_message(memory, seen, source, max_chars=limit)
            confirmation = saved_messages.saved(shorten(escape(record.text), SHOWN_CHARS))
            return Reply(confirmation, view=undo_view(record.id))

        await respond.answer(interaction, work(), defer_after=timing.defer_after)

    return app_commands.ContextMenu(name=COMMAND_NAME, callback=remember_this)

"""CubbyBot: the discord.py client, its intents, its cogs and the syncing of its slash commands."""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands as ext_commands

from bots.discord import respond
from bots.discord.boundary import contain
from bots.discord.cleanup import delete_posts
from bots.discord.cogs.conversation import ConversationCog
from bots.discord.cogs.memory import MemoryCog
from bots.discord.cogs.personal import PersonalCog
from bots.discord.lifecycle import Lifecycle, admit
from bots.discord.remember_this import UndoButton, remember_this_command
from bots.discord.render import NO_MENTIONS
from bots.discord.respond import Timing
from core import Agent, Hub, PostRef, Settings, UserKey

log = logging.getLogger(__name__)


def cubby_intents() -> discord.Intents:
    """Servers and their channels, plus messages in servers and DMs.

    The privileged Message Content intent is deliberately NOT requested: Discord still delivers the
    text of DMs and of messages that mention Cubby - the only messages it answers - and Cubby never
    receives the text of anyone's other messages."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


# Every command may be used wherever the person is: Cubby can be added to a server (a guild install) or
# by a person for themselves (a user install), and then also works in servers Cubby is not a member of,
# in their DM with Cubby and in their group DMs. Every answer is ephemeral, so nobody else sees it.
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
INSTALLS = app_commands.AppInstallationType(guild=True, user=True)


class CubbyTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await admit(interaction)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        command = interaction.command.name if interaction.command else "unknown"
        await contain(f"/{command}", original, functools.partial(respond.apologise, interaction))


class CubbyBot(ext_commands.Bot):
    def __init__(
        self, *, hub: Hub, agent: Agent, settings: Settings, timing: Timing | None = None, **options: Any
    ) -> None:
        super().__init__(
            command_prefix=ext_commands.when_mentioned,  # unused: Cubby has slash commands only
            help_command=None,
            intents=cubby_intents(),
            allowed_mentions=NO_MENTIONS,
            tree_cls=CubbyTree,
            allowed_contexts=CONTEXTS,
            allowed_installs=INSTALLS,
            **options,
        )
        self.hub = hub
        self.agent = agent
        self.settings = settings
        self.timing = timing or Timing()
        self.lifecycle = Lifecycle()

    async def setup_hook(self) -> None:
        self.hub.erased_posts = self._delete_swept_posts
        await self.add_cog(MemoryCog(self.hub, self.timing))
        await self.add_cog(PersonalCog(self.hub, self.timing))
        await self.add_cog(ConversationCog(self, self.hub, self.agent))
        self.tree.add_command(remember_this_command(self.hub, self.timing))
        # Buttons of messages sent before a restart: their custom ids say what to do, so they work again.
        self.add_dynamic_items(UndoButton)
        await self.sync_commands()

    async def _delete_swept_posts(self, key: UserKey, posts: list[PostRef]) -> None:
        """Cubby's DM answers that quoted memories the sweeper erased (expired, or past retention)."""
        await delete_posts(self, posts)

    async def sync_commands(self) -> None:
        """Register the slash commands with Discord: in the dev server (instant) if one is set,
        else globally (may take a while to reach every server)."""
        if self.settings.discord_dev_guild_id is not None:
            guild = discord.Object(id=self.settings.discord_dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the dev server", len(synced))
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        log.info(
            "connected to Discord as user id %s in %d servers", self.user and self.user.id, len(self.guilds)
        )

    async def on_message(self, message: discord.Message) -> None:
        """Cubby has no prefix commands; the conversation cog listens to messages."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        await contain(f"handling {event_method}", sys.exc_info()[1])

    async def shut_down(self, drain_seconds: float) -> None:
        """Stop taking work, wait up to ``drain_seconds`` for the work already taken, then close."""
        self.lifecycle.accepting = False
        if not await self.lifecycle.work.idle(drain_seconds):
            log.warning("stopped with Discord work still running")
        await self.close()

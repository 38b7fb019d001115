"""A person's memory in their hands on Discord: ``/edit`` (a modal prefilled with the memory),
and ``/cubby pause|resume|status|expiry|import|retention``. Every answer is ephemeral.

Whose memory is acted on is always the interaction's user; a memory id in an option or a modal
that is not theirs is an unknown id. Retention is for members with the Manage Server permission in
that server, and shows them counts only.
"""

from __future__ import annotations

from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands as ext_commands

from bots.discord import respond
from bots.discord.cleanup import delete_posts
from bots.discord.cogs.memory import where_usable
from bots.discord.identity import memory_of
from bots.discord.render import Reply, escape
from bots.discord.respond import Timing
from core import Hub, InvalidInput, PersonSettings, ScopedMemory, commands, imports, replies, sweeper

MODAL_TEXT_LIMIT = 4000  # Discord's limit for a text input


class EditModal(discord.ui.Modal, title="Edit a memory"):
    """Prefilled with the memory's text; only ever opened for the memory's owner."""

    def __init__(self, memory: ScopedMemory, memory_id: str, text: str, timing: Timing) -> None:
        super().__init__(custom_id=f"cubby_edit:{memory_id}")
        self.memory = memory
        self.memory_id = memory_id
        self.timing = timing
        self.text: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
            label="What I should remember",
            style=discord.TextStyle.paragraph,
            default=text[:MODAL_TEXT_LIMIT],
            max_length=min(MODAL_TEXT_LIMIT, memory.limits[1]),
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        memory = memory_of_interaction(self.memory, interaction)

        async def work() -> Reply:
            edited = await commands.edit(memory, self.memory_id, self.text.value)
            removed, not_removed = await delete_posts(interaction.client, edited.posts)
            done = replies.edited(edited.record, escape)
            return Reply(" ".join(filter(None, [done, replies.posts_removed(removed, not_removed)])))

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)


def memory_of_interaction(opened_for: ScopedMemory, interaction: discord.Interaction) -> ScopedMemory:
    """The submitter's memory: a modal submitted by anyone but the person it was opened for is
    refused (discord.py routes a modal by user too; this holds even if it did not)."""
    if opened_for.key.user_id != str(interaction.user.id):
        raise InvalidInput("that form is not yours")
    return opened_for


async def _download(attachment: discord.Attachment) -> bytes:
    if attachment.size > imports.MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        return await attachment.read()
    except discord.HTTPException:
        raise InvalidInput("Discord did not give me that file") from None


def _days(value: int) -> int | None:
    if value == 0:
        return None
    if not 1 <= value <= sweeper.MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention is between 1 and {sweeper.MAX_RETENTION_DAYS} days (0 turns it off)")
    return value


class PersonalCog(ext_commands.Cog, name="Personal"):
    cubby = app_commands.Group(
        name="cubby",
        description="Your Cubby settings: pause, expiry, import, retention",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
    )

    def __init__(self, hub: Hub, timing: Timing) -> None:
        self.hub = hub
        self.timing = timing

    async def _answer(self, interaction: discord.Interaction, text: Awaitable[str]) -> None:
        async def work() -> Reply:
            return Reply(await text)

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)

    @app_commands.command(description="Correct one of your memories (the old text is erased).")
    @app_commands.describe(memory="The memory id, from /recall")
    @where_usable
    async def edit(self, interaction: discord.Interaction, memory: app_commands.Range[str, 1, 100]) -> None:
        scoped = memory_of(self.hub, interaction.user)
        record = await scoped.get(memory.strip())
        if record is None:
            await respond.send(
                interaction, Reply(replies.describe_error(InvalidInput("you have no memory with that id")))
            )
            return
        await interaction.response.send_modal(EditModal(scoped, record.id, record.text, self.timing))

    @cubby.command(description="Stop learning from our conversations (/remember still works).")
    async def pause(self, interaction: discord.Interaction) -> None:
        memory = memory_of(self.hub, interaction.user)
        await self._answer(interaction, _status_after(commands.set_paused(memory, True)))

    @cubby.command(description="Learn from our conversations again.")
    async def resume(self, interaction: discord.Interaction) -> None:
        memory = memory_of(self.hub, interaction.user)
        await self._answer(interaction, _status_after(commands.set_paused(memory, False)))

    @cubby.command(description="Whether I learn from our conversations, and how long memories last.")
    async def status(self, interaction: discord.Interaction) -> None:
        memory = memory_of(self.hub, interaction.user)

        async def text() -> str:
            settings = await memory.settings()
            return replies.paused_status(settings) + " " + replies.default_expiry(settings)

        await self._answer(interaction, text())

    @cubby.command(description="Make new memories expire after a while (e.g. 30 days), or 'off'.")
    @app_commands.describe(duration="e.g. 30 days, 2 weeks, a year, or off")
    async def expiry(
        self, interaction: discord.Interaction, duration: app_commands.Range[str, 1, 40]
    ) -> None:
        memory = memory_of(self.hub, interaction.user)

        async def text() -> str:
            return replies.default_expiry(await commands.set_default_expiry(memory, duration))

        await self._answer(interaction, text())

    @cubby.command(name="import", description="Bring back memories from one of your Cubby exports.")
    @app_commands.describe(file="A Cubby export file (from /export)")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        memory = memory_of(self.hub, interaction.user)

        async def text() -> str:
            return replies.imported(await commands.import_export(memory, await _download(file)))

        await self._answer(interaction, text())

    @cubby.command(description="Server managers: erase memories made here after N days (0: off).")
    @app_commands.describe(days="Erase memories made in this server once they are this many days old")
    async def retention(self, interaction: discord.Interaction, days: int | None = None) -> None:
        async def text() -> str:
            if interaction.guild_id is None:
                raise InvalidInput("retention is set in a server, not in a DM")
            if not interaction.permissions.manage_guild:
                raise InvalidInput("only members who can manage this server can set retention")
            scope = sweeper.retention_scope("discord", str(interaction.guild_id))
            if days is None:
                current = await sweeper.retention_of(self.hub, scope)
                older = await sweeper.count_older(self.hub, scope, current) if current else 0
                return replies.retention_status(current, older)
            chosen = _days(days)
            return replies.retention_set(chosen, await sweeper.set_retention(self.hub, scope, chosen))

        await self._answer(interaction, text())


async def _status_after(change: Awaitable[PersonSettings]) -> str:
    return replies.paused_status(await change)

"""The memory commands: /remember, /recall, /forget and /export. Every answer is ephemeral."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands as ext_commands

from bots.discord import respond
from bots.discord.identity import memory_of, source_of
from bots.discord.render import MESSAGE_LIMIT, Reply, escape
from bots.discord.respond import Timing
from bots.discord.views import ForgetChoiceView, ForgetConfirmView, question
from core import Hub, commands, replies

# Discord enforces this in the client: /remember cannot even be sent with longer text. The core's own
# limit (CUBBY_MAX_MEMORY_CHARS) still applies and answers with a clear message if it is lower.
REMEMBER_MAX_CHARS = 2000
QUERY_MAX_CHARS = 500
MAX_PAGE = 10_000
# How much of each memory a /forget question shows, so the question and its buttons fit one message.
FORGET_SHOWN_CHARS = {"one": 1500, "choose": 300}

# Usable in servers, in a DM with Cubby and - for a person who installed Cubby for themselves - in
# their group DMs; the same as the tree's defaults (bots/discord/bot.py), said here for each command.
where_usable = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)


class MemoryCog(ext_commands.Cog, name="Memory"):
    def __init__(self, hub: Hub, timing: Timing) -> None:
        self.hub = hub
        self.timing = timing

    @app_commands.command(description="Keep something for later. Only you can see your memories.")
    @app_commands.describe(text="What I should remember")
    @where_usable
    async def remember(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, REMEMBER_MAX_CHARS]
    ) -> None:
        memory = memory_of(self.hub, interaction.user)
        source = source_of(
            interaction.channel_id, in_guild=interaction.guild_id is not None, guild_id=interaction.guild_id
        )

        async def work() -> Reply:
            return Reply(replies.remembered(await commands.remember(memory, text, source), escape))

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)

    @app_commands.command(description="Find what you told me; leave the words out to list everything.")
    @app_commands.describe(query="What to look for", page="Which page of everything to show")
    @where_usable
    async def recall(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, QUERY_MAX_CHARS] | None = None,
        page: app_commands.Range[int, 1, MAX_PAGE] = 1,
    ) -> None:
        memory = memory_of(self.hub, interaction.user)

        async def work() -> Reply:
            return Reply(replies.recalled(await commands.recall(memory, query, page=page), escape))

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)

    @app_commands.command(description="Erase one memory, or everything. I ask before erasing.")
    @app_commands.describe(
        memory="A memory id from /recall, or words to find it; leave out to erase everything"
    )
    @where_usable
    async def forget(
        self,
        interaction: discord.Interaction,
        memory: app_commands.Range[str, 1, QUERY_MAX_CHARS] | None = None,
    ) -> None:
        scoped = memory_of(self.hub, interaction.user)

        async def work() -> Reply:
            plan = await commands.plan_forget(scoped, memory)
            text = question(plan, FORGET_SHOWN_CHARS.get(plan.kind, MESSAGE_LIMIT))
            if plan.kind in ("everything", "one"):
                return Reply(text, view=ForgetConfirmView(self.hub, plan, interaction, self.timing))
            if plan.kind == "choose":
                return Reply(text, view=ForgetChoiceView(self.hub, plan, interaction, self.timing))
            return Reply(text)

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)

    @app_commands.command(description="Everything I keep about you, as a JSON file only you can see.")
    @where_usable
    async def export(self, interaction: discord.Interaction) -> None:
        memory = memory_of(self.hub, interaction.user)

        async def work() -> Reply:
            exported = await commands.export(memory)
            noun = "memory" if exported.count == 1 else "memories"
            return Reply(f"Here are all {exported.count} {noun} I keep for you.", file=exported)

        await respond.answer(interaction, work(), defer_after=self.timing.defer_after)

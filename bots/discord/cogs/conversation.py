"""Conversation: Cubby answers direct messages, and messages in a server that mention it.

Who may see a reply in a server channel is :func:`core.visibility.may_be_public`'s answer: only the
help text is posted there. Every other reply - an answer from the person's memories, "I know nothing
about that", an apology - is sent to the person by DM, and the channel only gets a short pointer (or,
if their DMs are closed, a hint to use /recall, whose answers only they can see). In a DM, Cubby
answers directly.
"""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands as ext_commands

from bots.discord import cleanup
from bots.discord.boundary import contain
from bots.discord.identity import memory_of, source_of
from bots.discord.lifecycle import accepting, tracked
from bots.discord.render import NO_MENTIONS, escape, split_message
from core import Agent, CubbyError, Hub, ReplyKind, ScopedMemory, may_be_public, replies

log = logging.getLogger(__name__)

SENT_BY_DM = "My answer is about your memories, so I've sent it to you in a DM."
DMS_CLOSED = (
    "My answer is about your memories, so I won't post it here, and I can't DM you. "
    "Use /recall here instead - only you will see the answer."
)
# Only ordinary messages and replies are conversation; joins, pins and the like are not.
CONVERSATION_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class ConversationCog(ext_commands.Cog, name="Conversation"):
    def __init__(self, bot: ext_commands.Bot, hub: Hub, agent: Agent) -> None:
        self.bot = bot
        self.hub = hub
        self.agent = agent

    def is_for_me(self, message: discord.Message) -> bool:
        """A person's DM to Cubby, or a person's server message that mentions Cubby by name."""
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return False  # bots (Cubby included) and webhooks never get an answer
        if message.type not in CONVERSATION_TYPES:
            return False
        if message.guild is None:
            return isinstance(message.channel, discord.DMChannel)
        return any(user.id == me.id for user in message.mentions)

    def without_my_mention(self, content: str) -> str:
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", " ", content).strip()

    @ext_commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.is_for_me(message) or not accepting(self.bot):
            return
        async with tracked(self.bot):
            try:
                await self.answer(message)
            except CubbyError as error:
                await self.deliver(message, replies.describe_error(error), ReplyKind.ERROR)
            except Exception as error:

                async def apologise(failure: Exception) -> None:
                    await self.deliver(message, replies.describe_error(failure), ReplyKind.ERROR)

                await contain("answering a message", error, apologise)

    async def answer(self, message: discord.Message) -> None:
        text = self.without_my_mention(message.content)
        if not text:
            await self.deliver(message, escape(replies.help_text()), ReplyKind.HELP)
            return
        memory = memory_of(self.hub, message.author)
        source = source_of(
            message.channel.id,
            in_guild=message.guild is not None,
            guild_id=message.guild.id if message.guild else None,
        )
        reply = await self.agent.reply(memory, text, source=source)
        quoted = [record.id for record in reply.memories] if reply.reveals_memories else []
        await self.deliver(message, escape(reply.text), ReplyKind.ABOUT_MEMORY, quoting=(memory, quoted))

    async def deliver(
        self,
        message: discord.Message,
        text: str,
        kind: ReplyKind,
        *,
        quoting: tuple[ScopedMemory, list[str]] | None = None,
    ) -> None:
        """Answer ``message`` where it was sent if that channel may see ``text``; else by DM, with a
        pointer in the channel. DM messages that quote memories (``quoting``: whose, and which) are
        recorded, so that forgetting those memories deletes them. Never raises."""
        sent: list[discord.Message] = []
        try:
            if message.guild is None or may_be_public(kind):
                sent = await self.reply(message, text)
                return
            about = f"About your message in <#{message.channel.id}>:\n"
            try:
                await self.send_in_dm(message.author, about + text, sent)
            except discord.Forbidden:
                await self.reply(message, DMS_CLOSED)
            except discord.HTTPException as error:
                log.error("could not answer a message by DM: %s", type(error).__name__)
            else:
                await self.reply(message, SENT_BY_DM)
        finally:
            if quoting is not None and quoting[1] and sent:
                await cleanup.keep_track(self.bot, quoting[0], sent, quoting[1])

    async def reply(self, message: discord.Message, text: str) -> list[discord.Message]:
        """Answer ``message`` where it was sent, without pinging anyone; the messages sent. Never
        raises."""
        sent: list[discord.Message] = []
        try:
            for index, part in enumerate(split_message(text)):
                if index == 0:
                    sent.append(await message.reply(part, allowed_mentions=NO_MENTIONS, mention_author=False))
                else:
                    sent.append(await message.channel.send(part, allowed_mentions=NO_MENTIONS))
        except discord.HTTPException as error:
            log.error("could not reply to a message: %s", type(error).__name__)
        return sent

    async def send_in_dm(
        self, user: discord.User | discord.Member, text: str, sent: list[discord.Message]
    ) -> None:
        """Send ``text`` to ``user`` by DM, adding each message sent to ``sent`` (even if a later
        part fails, so that those already sent can be deleted on a forget)."""
        for part in split_message(text):
            sent.append(await user.send(part, allowed_mentions=NO_MENTIONS))

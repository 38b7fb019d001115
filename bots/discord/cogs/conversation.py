"""Conversation: Cubby answers direct messages, and messages in a server that mention it.

Privacy policy for servers: an answer that draws on the person's memories is never posted in the
channel. Cubby sends it to the person by DM and replies in the channel only with a short pointer (or,
if their DMs are closed, with a hint to use /recall, whose answers only they can see). An answer that
reveals no memory is posted in the channel as a normal reply. In a DM, Cubby answers directly.
"""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands as ext_commands

from bots.discord import cleanup
from bots.discord.identity import memory_of, source_of
from bots.discord.render import NO_MENTIONS, escape, split_message
from core import Agent, CubbyError, Hub, replies

log = logging.getLogger(__name__)

SENT_BY_DM = "That answer draws on your private memories, so I've sent it to you in a DM."
DMS_CLOSED = (
    "That answer draws on your private memories, so I won't post it here, and I can't DM you. "
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
        if not self.is_for_me(message):
            return
        try:
            await self.answer(message)
        except CubbyError as error:
            await self.reply(message, replies.describe_error(error))
        except discord.HTTPException as error:
            log.error("could not answer a message: %s", type(error).__name__)
        except Exception as error:
            # The message of an unexpected error may quote the person's text; only its type is logged.
            log.error("answering a message failed: %s", type(error).__name__)
            await self.reply(message, replies.describe_error(error))

    async def answer(self, message: discord.Message) -> None:
        text = self.without_my_mention(message.content)
        if not text:
            await self.reply(message, escape(replies.help_text()))
            return
        in_guild = message.guild is not None
        memory = memory_of(self.hub, message.author)
        reply = await self.agent.reply(memory, text, source=source_of(message.channel.id, in_guild=in_guild))
        quoted = [record.id for record in reply.memories]
        if not in_guild or not reply.reveals_memories:
            sent = await self.reply(message, escape(reply.text))
            if not in_guild and quoted:  # a DM answer quoting memories: deleted when they are forgotten
                await cleanup.keep_track(self.bot, memory, sent, quoted)
            return
        about = f"About your message in {message.channel.mention}:\n"
        sent = []
        try:
            await self.send_in_dm(message.author, about + escape(reply.text), sent)
        except discord.Forbidden:
            await self.reply(message, DMS_CLOSED)
        else:
            await self.reply(message, SENT_BY_DM)
        finally:
            await cleanup.keep_track(self.bot, memory, sent, quoted)

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

    async def send_in_dm(self, user: discord.abc.User, text: str, sent: list[discord.Message]) -> None:
        """Send ``text`` to ``user`` by DM, adding each message sent to ``sent`` (even if a later
        part fails, so that those already sent can be deleted on a forget)."""
        for part in split_message(text):
            sent.append(await user.send(part, allowed_mentions=NO_MENTIONS))

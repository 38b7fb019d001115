"""Conversation: direct messages to Cubby and @mentions of Cubby get a reply in the thread.

Privacy rule for channels: a reply to a mention is always *ephemeral* - only the person who mentioned
Cubby sees it - because any reply drawn from their memories (and even "I know nothing about that")
says something about them. In a direct message only the person and Cubby are present, so the reply
is an ordinary threaded message there.

Ignored: messages from bots (other apps and Cubby itself - Bolt drops Cubby's own), edits and other
message subtypes, and mentions inside a DM (the DM's message event already answers those).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks
from bots.slack.services import Services
from core import Source

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def without_mentions_of(bot_user_id: str | None, text: str) -> str:
    """``text`` with every mention of the bot removed (mentions of people are kept)."""
    return _MENTION.sub(lambda match: "" if match.group(1) == bot_user_id else match.group(0), text).strip()


def _from_a_person(event: dict[str, Any]) -> bool:
    return not event.get("subtype") and not event.get("bot_id") and isinstance(event.get("user"), str)


def register_conversation(app: AsyncApp, services: Services) -> None:
    async def converse(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        channel = event.get("channel")
        if not isinstance(channel, str):
            return
        in_channel = not channel.startswith("D")
        thread_ts = event.get("thread_ts") or event.get("ts")

        async def say_privately(plain_text: str) -> None:
            text = blocks.fit(plain_text, blocks.MESSAGE_TEXT_LIMIT)
            if in_channel:
                await client.chat_postEphemeral(
                    channel=channel, user=event["user"], text=text, thread_ts=thread_ts
                )
            else:
                await client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)

        async def work() -> None:
            memory = services.memory_of(body)
            text = event.get("text")
            message = without_mentions_of(context.bot_user_id, text if isinstance(text, str) else "")
            if not message:
                await say_privately(blocks.help_text())
                return
            reply = await services.agent.reply(memory, message, source=Source("slack", channel))
            await say_privately(reply.text)

        await services.handle("conversation", work, say_privately)

    @app.event("message")
    async def direct_message(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") == "im" and _from_a_person(event):
            await converse(body, event, context, client)

    @app.event("app_mention")
    async def mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        channel = event.get("channel")
        if isinstance(channel, str) and not channel.startswith("D") and _from_a_person(event):
            await converse(body, event, context, client)

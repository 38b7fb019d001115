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
from bots.slack.cleanup import keep_track
from bots.slack.services import Services
from core import MemoryRecord, PostRef, Source

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def without_mentions_of(bot_user_id: str | None, text: str) -> str:
    """``text`` with every mention of the bot removed (mentions of people are kept)."""
    return _MENTION.sub(lambda match: "" if match.group(1) == bot_user_id else match.group(0), text).strip()


def _ids(records: list[MemoryRecord]) -> list[str]:
    return [record.id for record in records]


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

        async def say_privately(plain_text: str) -> str | None:
            """Send the reply; the ts of a DM message (ephemeral replies are not kept by Slack)."""
            text = blocks.fit(plain_text, blocks.MESSAGE_TEXT_LIMIT)
            if in_channel:
                await client.chat_postEphemeral(
                    channel=channel, user=event["user"], text=text, thread_ts=thread_ts
                )
                return None
            posted = await client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)
            ts = posted.get("ts")
            return ts if isinstance(ts, str) else None

        async def work() -> None:
            memory = await services.memory_of(body)
            text = event.get("text")
            message = without_mentions_of(context.bot_user_id, text if isinstance(text, str) else "")
            if not message:
                await say_privately(blocks.help_text())
                return
            reply = await services.agent.reply(memory, message, source=Source("slack", channel))
            ts = await say_privately(reply.text)
            if ts is not None and reply.reveals_memories:
                post = PostRef("slack", "message", channel, ts)
                await keep_track(client, memory, post, _ids(reply.memories))

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

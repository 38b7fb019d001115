"""Conversation: direct messages to Cubby and @mentions of Cubby get a reply in the thread.

Who may see a reply in a channel is :func:`core.visibility.may_be_public`'s answer: only the help
text is posted for everyone; every other reply to a mention - anything drawn from the person's
memories, "I know nothing about that", an apology - is *ephemeral*, seen only by the person who
mentioned Cubby. In a direct message only the person and Cubby are present, so every reply is an
ordinary threaded message there.

Ignored: messages from bots (other apps and Cubby itself - Bolt drops Cubby's own), edits and other
message subtypes, and mentions inside a DM (the DM's message event already answers those).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks
from bots.slack.cleanup import keep_track
from bots.slack.services import services_of
from core import PostRef, ReplyKind, Source, may_be_public

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def without_mentions_of(bot_user_id: str | None, text: str) -> str:
    """``text`` with every mention of the bot removed (mentions of people are kept)."""
    return _MENTION.sub(lambda match: "" if match.group(1) == bot_user_id else match.group(0), text).strip()


def _from_a_person(event: dict[str, Any]) -> bool:
    return not event.get("subtype") and not event.get("bot_id") and isinstance(event.get("user"), str)


async def _converse(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    channel = event.get("channel")
    if not isinstance(channel, str):
        return
    services = services_of(context)
    in_channel = not channel.startswith("D")
    thread_ts = event.get("thread_ts") or event.get("ts")

    async def say(plain_text: str, kind: ReplyKind) -> str | None:
        """Send the reply; the ts of a message everyone in the channel keeps (ephemeral replies are
        not kept by Slack)."""
        text = blocks.fit(plain_text, blocks.MESSAGE_TEXT_LIMIT)
        if in_channel and not may_be_public(kind):
            await client.chat_postEphemeral(
                channel=channel, user=event["user"], text=text, thread_ts=thread_ts
            )
            return None
        posted = await client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)
        ts = posted.get("ts")
        return ts if isinstance(ts, str) else None

    async def apologize(plain_text: str) -> None:
        await say(plain_text, ReplyKind.ERROR)

    async def work() -> None:
        memory = await services.memory_of(body)
        text = event.get("text")
        message = without_mentions_of(context.bot_user_id, text if isinstance(text, str) else "")
        if not message:
            await say(blocks.help_text(), ReplyKind.HELP)
            return
        reply = await services.agent.reply(memory, message, source=Source("slack", channel))
        ts = await say(reply.text, ReplyKind.ABOUT_MEMORY)
        if ts is not None and reply.reveals_memories:  # a DM answer quoting memories
            quoted = [record.id for record in reply.memories]
            await keep_track(client, memory, PostRef("slack", "message", channel, ts), quoted)

    await services.handle("conversation", work, apologize)


async def direct_message(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("channel_type") == "im" and _from_a_person(event):
        await _converse(body, event, context, client)


async def mention(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    channel = event.get("channel")
    if isinstance(channel, str) and not channel.startswith("D") and _from_a_person(event):
        await _converse(body, event, context, client)

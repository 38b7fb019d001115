"""Slash commands: /remember, /recall, /forget and /cubby (help, export).

Each acknowledges at once (Slack allows 3 seconds), then does the work and answers through the
command's ``response_url`` - always ephemeral, so only the person who typed the command sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks, personal
from bots.slack.export import send_export, sent_message
from bots.slack.services import Respond, apologize_privately, respond_privately, services_of
from core import Source, commands, replies

Ack = Callable[..., Awaitable[Any]]


def _source(body: dict[str, Any]) -> Source:
    channel = body.get("channel_id")
    return Source("slack", channel if isinstance(channel, str) and channel else None, how="typed")


def _argument(body: dict[str, Any]) -> str:
    text = body.get("text")
    return text.strip() if isinstance(text, str) else ""


async def remember(ack: Ack, body: dict[str, Any], respond: Respond, context: AsyncBoltContext) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        records = await commands.remember(memory, _argument(body), _source(body))
        await respond_privately(respond, blocks.notice(replies.remembered(records)))

    await services.handle("/remember", work, apologize_privately(respond), usage=replies.USAGE["remember"])


async def recall(ack: Ack, body: dict[str, Any], respond: Respond, context: AsyncBoltContext) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        result = await commands.recall(await services.memory_of(body), _argument(body) or None)
        await respond_privately(respond, blocks.recalled(result))

    await services.handle("/recall", work, apologize_privately(respond), usage=replies.USAGE["recall"])


async def forget(ack: Ack, body: dict[str, Any], respond: Respond, context: AsyncBoltContext) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        plan = await commands.plan_forget(await services.memory_of(body), _argument(body))
        await respond_privately(respond, blocks.forget_question(plan))

    await services.handle("/forget", work, apologize_privately(respond), usage=replies.USAGE["forget"])


async def cubby(
    ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)
    subcommand, _, rest = _argument(body).partition(" ")
    subcommand = subcommand.lower()

    async def work() -> None:
        answer = await personal.subcommand(subcommand, rest, body, client, services)
        if answer is not None:
            await respond_privately(respond, blocks.notice(answer))
        elif subcommand == "export":
            exported = await send_export(client, await services.memory_of(body))
            await respond_privately(respond, blocks.notice(sent_message(exported)))
        elif subcommand in ("", "help"):
            await respond_privately(respond, blocks.notice(blocks.help_text()))
        else:
            unknown = f"I don't know '/cubby {subcommand[:40]}'.\n"
            await respond_privately(respond, blocks.notice(unknown + blocks.help_text()))

    await services.handle("/cubby", work, apologize_privately(respond))

"""Buttons on Cubby's ephemeral messages: confirm or cancel a /forget, page through /recall.

A button's value only says *what* to act on (a memory id, "everything", a page number). *Whose*
memories is always re-derived from the user who clicked, so a forwarded or crafted button can only
ever touch the clicker's own memories - someone else's memory id is simply not found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks, cleanup
from bots.slack.services import Respond, apologize_privately, respond_privately, services_of
from core import commands, replies

Ack = Callable[..., Awaitable[Any]]


def clicked_value(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        value = actions[0].get("value")
        if isinstance(value, str):
            return value
    return ""


def page_number(value: object) -> int:
    """A page number from a button value or view metadata; 1 for anything that is not one."""
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 7 else 1


async def forget(
    ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        target = clicked_value(body)
        if target == blocks.EVERYTHING:
            done = await cleanup.forget(client, memory, earlier=services.earlier_memory_of(body))
        else:
            done = await cleanup.forget(client, memory, target)
        await respond_privately(respond, blocks.notice(done), replace=True)

    await services.handle("forget button", work, apologize_privately(respond, replace=True))


async def cancel_forget(ack: Ack, respond: Respond, context: AsyncBoltContext) -> None:
    await ack()

    async def work() -> None:
        await respond_privately(respond, blocks.notice(replies.FORGET_CANCELLED), replace=True)

    await services_of(context).handle("cancel button", work, apologize_privately(respond, replace=True))


async def turn_recall_page(
    ack: Ack, body: dict[str, Any], respond: Respond, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        page = page_number(clicked_value(body))
        result = await commands.recall(await services.memory_of(body), None, page=page)
        await respond_privately(respond, blocks.recalled(result), replace=True)

    await services.handle("recall page button", work, apologize_privately(respond, replace=True))

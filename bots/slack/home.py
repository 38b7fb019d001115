"""The App Home tab: "What Cubby remembers about you", with delete, forget-all and export buttons.

A Home tab is published for one user id and only that user sees it. The user id it is published for
is always the owner of the memories shown (taken from the :class:`ScopedMemory`, which was built from
the payload's user), and every button re-derives the person from the click.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks, cleanup
from bots.slack.actions import clicked_value, page_number
from bots.slack.export import send_export, sent_message
from bots.slack.services import Services, services_of
from core import ScopedMemory, commands

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[Any]]
HOME_PAGE_SIZE = 20


async def publish_home(
    client: AsyncWebClient, memory: ScopedMemory, *, page: int = 1, notice_text: str | None = None
) -> None:
    result = await commands.recall(memory, None, page=page, page_size=HOME_PAGE_SIZE)
    view = blocks.home_view(result, notice_text=notice_text)
    await client.views_publish(user_id=memory.key.user_id, view=view)


def _current_page(body: dict[str, Any]) -> int:
    view = body.get("view")
    return page_number(view.get("private_metadata")) if isinstance(view, dict) else 1


def _apologize_with(
    services: Services, client: AsyncWebClient, body: dict[str, Any]
) -> Callable[[str], Awaitable[None]]:
    async def apologize(message: str) -> None:
        memory = await services.memory_of(body)
        try:
            await publish_home(client, memory, page=_current_page(body), notice_text=message)
        except Exception as error:  # the memories cannot be shown either: say only that
            log.warning("Home tab without memories after a failure: %s", type(error).__name__)
            await client.views_publish(user_id=memory.key.user_id, view=blocks.home_apology(message))

    return apologize


async def home_opened(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab") != "home":
        return
    services = services_of(context)

    async def work() -> None:
        await publish_home(client, await services.memory_of(body))

    await services.handle("app_home_opened", work, _apologize_with(services, client, body))


async def turn_page(
    ack: Ack, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        await publish_home(client, await services.memory_of(body), page=page_number(clicked_value(body)))

    await services.handle("home page button", work, _apologize_with(services, client, body))


async def delete_one(
    ack: Ack, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        notice = await cleanup.forget(client, memory, clicked_value(body))
        await publish_home(client, memory, page=_current_page(body), notice_text=notice)

    await services.handle("home delete button", work, _apologize_with(services, client, body))


async def forget_all(
    ack: Ack, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        notice = await cleanup.forget(client, memory, earlier=services.earlier_memory_of(body))
        await publish_home(client, memory, notice_text=notice)

    await services.handle("home forget-all button", work, _apologize_with(services, client, body))


async def export(ack: Ack, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        exported = await send_export(client, memory)
        await publish_home(client, memory, page=_current_page(body), notice_text=sent_message(exported))

    await services.handle("home export button", work, _apologize_with(services, client, body))

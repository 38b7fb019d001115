"""The "Remember this" message shortcut, and its Undo button.

Slack sends a ``message_action`` payload with the whole message the person pointed at. Its text is
saved under the key of the person who invoked the shortcut (:mod:`bots.slack.identity`), with the
channel, a permalink (``chat.getPermalink``, which needs no scope) and - when someone else wrote it -
the author's user id. The confirmation goes to the shortcut's ``response_url`` as an ephemeral
message, so only the invoker sees it; its Undo button carries the new memory's id and erases it from
the clicker's own memory only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks, cleanup
from bots.slack.actions import clicked_value
from bots.slack.services import Respond, apologize_privately, respond_privately, services_of, slack_error_code
from core import SeenMessage, saved_messages

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[Any]]

REMEMBER_THIS = "cubby_remember_this"  # the shortcut's callback_id, in both manifests


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def seen_message(body: Mapping[str, Any]) -> SeenMessage:
    """The message a ``message_action`` points at, as Cubby can keep it."""
    message = _mapping(body.get("message"))
    text = message.get("text")
    return SeenMessage(
        text if isinstance(text, str) else "",
        has_attachments=bool(message.get("files") or message.get("attachments")),
        author=_text(message.get("user")) or _text(message.get("bot_id")),
    )


async def _permalink(client: AsyncWebClient, channel: str | None, ts: str | None) -> str | None:
    """The message's permalink; None when Slack will not give one (the message is still saved)."""
    if channel is None or ts is None:
        return None
    try:
        response = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as error:
        log.info("no permalink for a saved message: %s", slack_error_code(error))
        return None
    return _text(response.get("permalink"))


async def remember_this(
    ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        message = seen_message(body)
        channel = _text(_mapping(body.get("channel")).get("id"))
        ts = _text(body.get("message_ts")) or _text(_mapping(body.get("message")).get("ts"))
        limit = services.hub.settings.max_memory_chars
        saved_messages.check(message, limit)  # refuse before asking Slack for anything
        permalink = await _permalink(client, channel, ts)
        source = saved_messages.provenance(
            "slack", message, memory.key.user_id, channel=channel, permalink=permalink
        )
        record = await saved_messages.remember_message(memory, message, source, max_chars=limit)
        await respond_privately(respond, blocks.saved_message(record))

    await services.handle("Remember this", work, apologize_privately(respond))


async def undo(
    ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Erase the memory a "Remember this" just saved - looked up in the clicker's memory only."""
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        done = await cleanup.forget(client, memory, clicked_value(body))
        await respond_privately(respond, blocks.notice(done), replace=True)

    await services.handle("Undo button", work, apologize_privately(respond, replace=True))

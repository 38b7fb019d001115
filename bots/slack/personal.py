"""A person's memory in their hands on Slack: the Edit button and its modal, and the /cubby
subcommands pause, resume, status, expiry, import and (for workspace admins) retention.

As everywhere, whose memory is acted on comes from the payload's user, never from a button value
or a modal's metadata: an edit of someone else's memory id finds nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks, cleanup
from bots.slack.actions import clicked_value
from bots.slack.services import Respond, Services, respond_privately, services_of
from core import InvalidInput, ScopedMemory, commands, durations, imports, replies, sweeper

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[Any]]
HOME = "home"


# -- edit ----------------------------------------------------------------------------------------
async def open_edit(
    ack: Ack, body: dict[str, Any], respond: Respond, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The Edit button (on /recall lists and the Home tab): open the modal for that memory."""
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        record = await memory.get(clicked_value(body))
        if record is None:
            raise InvalidInput("you have no memory with that id")
        origin = body.get("response_url") if isinstance(body.get("response_url"), str) else HOME
        view = blocks.edit_modal(record, origin=str(origin), max_chars=memory.limits[1])
        await client.views_open(trigger_id=body.get("trigger_id"), view=view)

    await services.handle("edit button", work, _tell(services, client, body, respond))


def _submitted(body: dict[str, Any]) -> tuple[str, str, str]:
    view = body.get("view") or {}
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        text = view["state"]["values"][blocks.EDIT_INPUT][blocks.EDIT_INPUT]["value"]
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("that edit form is not one of mine") from None
    if not isinstance(metadata, dict) or not isinstance(text, str):
        raise InvalidInput("that edit form is not one of mine")
    return str(metadata.get("id", "")), str(metadata.get("origin", HOME)), text


async def submit_edit(
    ack: Ack, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The modal's Save: an empty text keeps the modal open with an error; otherwise the edit."""
    try:
        memory_id, origin, text = _submitted(body)
    except InvalidInput as error:
        await ack(response_action="errors", errors={blocks.EDIT_INPUT: str(error)})
        return
    if not text.strip():
        await ack(response_action="errors", errors={blocks.EDIT_INPUT: "the memory is empty"})
        return
    await ack()
    services = services_of(context)

    async def work() -> None:
        memory = await services.memory_of(body)
        edited = await commands.edit(memory, memory_id, text)
        removal = await cleanup.delete_posts(client, edited.posts)
        await _say(
            services,
            client,
            body,
            origin,
            " ".join(filter(None, [replies.edited(edited.record), removal.summary()])),
        )

    async def apologize(message: str) -> None:
        await _say(services, client, body, origin, message)

    await services.handle("edit modal", work, apologize)


async def _say(
    services: Services, client: AsyncWebClient, body: dict[str, Any], origin: str, text: str
) -> None:
    """Tell the person how their edit went where it started: the /recall message, or Home."""
    from bots.slack.home import publish_home

    if origin != HOME and _is_slack_url(origin, client):
        async with aiohttp.ClientSession() as session:
            payload = {**blocks.notice(text), "response_type": "ephemeral", "replace_original": True}
            async with session.post(origin, json=payload) as response:
                if response.status != 200:
                    log.warning("Slack refused a response_url reply (HTTP %s)", response.status)
        return
    await publish_home(client, await services.memory_of(body), notice_text=text)


def _is_slack_url(url: str, client: AsyncWebClient) -> bool:
    """Only Slack's own hosts (or the API host Cubby is configured with) get a reply or a token."""
    parsed, api = urlparse(url), urlparse(client.base_url)
    if parsed.scheme == "https" and (parsed.hostname or "").endswith(".slack.com"):
        return True
    return (parsed.scheme, parsed.netloc) == (api.scheme, api.netloc)


def _tell(
    services: Services, client: AsyncWebClient, body: dict[str, Any], respond: Respond
) -> Callable[[str], Awaitable[None]]:
    async def tell(message: str) -> None:
        if isinstance(body.get("response_url"), str):
            await respond_privately(respond, blocks.notice(message))
        else:
            from bots.slack.home import publish_home

            await publish_home(client, await services.memory_of(body), notice_text=message)

    return tell


# -- /cubby subcommands ----------------------------------------------------------------------------
async def subcommand(
    name: str, rest: str, body: dict[str, Any], client: AsyncWebClient, services: Services
) -> str | None:
    """The reply to ``/cubby <name> <rest>``, or None when ``name`` is not one of these."""
    if name in ("pause", "resume"):
        memory = await services.memory_of(body)
        return replies.paused_status(await commands.set_paused(memory, name == "pause"))
    if name == "status":
        settings = await (await services.memory_of(body)).settings()
        return replies.paused_status(settings) + " " + replies.default_expiry(settings)
    if name == "expiry":
        memory = await services.memory_of(body)
        return replies.default_expiry(await commands.set_default_expiry(memory, rest))
    if name == "import":
        memory = await services.memory_of(body)
        return replies.imported(
            await commands.import_export(memory, await _uploaded_export(client, body, memory))
        )
    if name == "retention":
        return await _retention(rest, body, client, services)
    return None


async def _uploaded_export(client: AsyncWebClient, body: dict[str, Any], memory: ScopedMemory) -> bytes:
    """The newest .json file the person uploaded in their DM with Cubby."""
    channel = body.get("channel_id")
    if not isinstance(channel, str) or not channel.startswith("D"):
        raise InvalidInput("upload your export file in your DM with me, then type /cubby import there")
    listed = await client.files_list(user=memory.key.user_id, channel=channel, count=20)
    files = [f for f in listed.get("files") or [] if str(f.get("name", "")).lower().endswith(".json")]
    if not files:
        raise InvalidInput("upload your export file (a .json file) in this DM first, then type /cubby import")
    info = (await client.files_info(file=files[0]["id"])).get("file") or {}
    if int(info.get("size") or 0) > imports.MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    url = info.get("url_private")
    if not isinstance(url, str) or not _is_slack_url(url, client):
        raise InvalidInput("Slack did not give me that file")
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        headers = {"Authorization": f"Bearer {client.token}"}
        async with session.get(url, headers=headers) as response:
            if response.status != 200:
                raise InvalidInput("Slack did not give me that file")
            content = await response.content.read(imports.MAX_IMPORT_BYTES + 1)
    return content


async def _retention(rest: str, body: dict[str, Any], client: AsyncWebClient, services: Services) -> str:
    """``/cubby retention [30 days | off]``, for workspace admins and owners only; they see counts."""
    memory = await services.memory_of(body)
    user = (await client.users_info(user=memory.key.user_id)).get("user") or {}
    if not (user.get("is_admin") or user.get("is_owner")):
        raise InvalidInput("only a workspace admin can set how long memories are kept here")
    scope = sweeper.retention_scope("slack", memory.key.parts[0])
    rest = rest.strip().lower()
    if not rest:
        days = await sweeper.retention_of(services.hub, scope)
        older = await sweeper.count_older(services.hub, scope, days) if days else 0
        return replies.retention_status(days, older)
    days = (
        None
        if rest in ("off", "none", "never")
        else max(1, round(durations.parse_span(rest).total_seconds() / 86400))
    )
    return replies.retention_set(days, await sweeper.set_retention(services.hub, scope, days))

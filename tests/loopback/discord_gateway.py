"""A fake Discord on 127.0.0.1: the REST API and the gateway, enough for the unmodified discord.py
client to log in, sync commands, receive events and answer them. Every REST call is recorded so tests
can assert on exactly what went over the wire."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
HEARTBEAT_INTERVAL_MS = 45_000
_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_snowflakes))


def user_payload(user_id: int | str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def _json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py only parses a body whose Content-Type is exactly "application/json" (no charset).
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


@dataclass
class Recorded:
    """One REST request the client made (or, with method ``GATEWAY``, its gateway connection).

    ``body`` is the JSON body (or a multipart ``payload_json``); ``files`` maps attachment file names
    to their bytes; ``message_id`` is the id of the message the fake created for it, if any;
    ``response`` is what the fake answered, where a test needs it."""

    method: str
    path: str
    body: Any
    query: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    message_id: str | None = None
    response: Any = None

    @property
    def data(self) -> dict[str, Any]:
        """The message part of an interaction callback (``body["data"]``) or the body itself."""
        if isinstance(self.body, dict) and "data" in self.body and "type" in self.body:
            return self.body["data"] or {}
        return self.body if isinstance(self.body, dict) else {}

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def custom_ids(self) -> list[str]:
        return [
            component["custom_id"]
            for row in self.data.get("components") or []
            for component in row.get("components", [])
            if "custom_id" in component
        ]


def message_payload(
    message_id: str, channel_id: str, author: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """A Discord message object with every field discord.py reads; ``fields`` override the defaults."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": "",
        "timestamp": "2026-11-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        **fields,
    }


def member_payload(**fields: Any) -> dict[str, Any]:
    """A guild member object; ``fields`` (``user``, ``permissions``...) are added."""
    return {
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        **fields,
    }


class FakeDiscord:
    """``record=False`` (for benchmarks, where keeping every request would cost more than the
    requests themselves) keeps no requests and writes no access log; ``observe`` still sees each
    request as it arrives."""

    def __init__(
        self,
        *,
        application_id: str,
        bot_user: dict[str, Any],
        guilds: list[dict[str, Any]],
        record: bool = True,
        observe: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.recording = record
        self._observe = observe
        self.application_id = application_id
        self.bot_user = bot_user
        self.guilds = guilds
        self.requests: list[Recorded] = []
        self.identify: dict[str, Any] | None = None
        self.identified = asyncio.Event()
        self.accept_token = True
        self.users_refusing_dms: set[str] = set()
        self.message_status: int | None = None  # when set, every message sent gets this HTTP error
        self._changed = asyncio.Condition()
        self._socket: web.WebSocketResponse | None = None
        self._sequence = 0
        self.dm_channels: dict[str, str] = {}
        self.attachments: dict[str, bytes] = {}  # files people attached, served at <api>/attachments/<id>
        self.messages: set[tuple[str, str]] = set()  # (channel id, message id) posted, not deleted
        self.rate_limited_deletes = 0  # answer this many message deletes with a 429 first
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app) if self.recording else web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    # -- what tests use -------------------------------------------------------------------------
    def mark(self) -> int:
        """A bookmark: :meth:`wait_for` with ``after=mark`` only looks at requests made since."""
        return len(self.requests)

    async def wait_for(
        self, predicate: Callable[[Recorded], bool], *, after: int = 0, count: int = 1, timeout: float = 10.0
    ) -> list[Recorded]:
        """The first ``count`` requests (made after ``after``) that match, waiting for them to arrive."""

        def matching() -> list[Recorded]:
            return [r for r in self.requests[after:] if predicate(r)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), timeout)
            return matching()[:count]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH event to the connected client."""
        assert self._socket is not None, "the client is not connected"
        self._sequence += 1
        await self._socket.send_str(json.dumps({"op": 0, "t": event, "s": self._sequence, "d": data}))

    # -- gateway --------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await self._record(Recorded("GATEWAY", "/gateway", None, dict(request.query)))
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif message["op"] == 2:
                self.identify = message["d"]
                self.identified.set()
                await self._send_ready()
        return socket

    async def _send_ready(self) -> None:
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": guild["id"], "unavailable": True} for guild in self.guilds],
                "session_id": "fake-session",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": self.application_id, "flags": 0},
            },
        )
        for guild in self.guilds:
            await self.dispatch("GUILD_CREATE", guild)

    # -- REST -----------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        recorded = Recorded(request.method, path, body, dict(request.query), files)
        response = self._answer(recorded)
        await self._record(recorded)
        return response

    async def _record(self, recorded: Recorded) -> None:
        if self._observe is not None:
            self._observe(recorded)
        if not self.recording:
            return
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
        if not request.can_read_body:
            return None, {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = {
                part.filename: part.file.read() for part in form.values() if isinstance(part, web.FileField)
            }
            payload = form.get("payload_json")
            return (json.loads(payload) if isinstance(payload, str) else None), files
        raw = await request.read()
        return (json.loads(raw) if raw else None), {}

    def _answer(self, recorded: Recorded) -> web.Response:
        method, path, parts = recorded.method, recorded.path, recorded.path.strip("/").split("/")
        if path == "/users/@me" and method == "GET":
            if not self.accept_token:
                return _json_response({"message": "401: Unauthorized", "code": 0}, 401)
            return _json_response(self.bot_user)
        if path == "/oauth2/applications/@me":
            return _json_response(self._application())
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            scope = {"guild_id": parts[3]} if parts[2] == "guilds" else {}
            registered = {"application_id": self.application_id, "version": "1", **scope}
            # Discord answers message and user commands with an empty description.
            recorded.response = [
                {"description": "", **command, **registered, "id": snowflake()} for command in recorded.body
            ]
            return _json_response(recorded.response)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return _json_response(self._interaction_callback(recorded, interaction_id=parts[1]))
        if parts[0] == "webhooks" and method == "POST":
            return self._created_message(recorded, channel_id="0")
        if parts[0] == "webhooks" and method == "PATCH":
            return _json_response(
                self._message(parts[-1] if parts[-1] != "@original" else snowflake(), "0", recorded)
            )
        if path == "/users/@me/channels" and method == "POST":
            return self._dm_channel(str(recorded.body["recipient_id"]))
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            if self.message_status is not None:
                error = {"message": "scripted failure", "code": 0}
                return _json_response(error, self.message_status)
            if parts[1] in {self.dm_channels.get(user) for user in self.users_refusing_dms}:
                return _json_response({"message": "Cannot send messages to this user", "code": 50007}, 403)
            return self._created_message(recorded, channel_id=parts[1])
        if parts[0] == "channels" and len(parts) == 4 and parts[2] == "messages" and method == "DELETE":
            return self._delete_message(parts[1], parts[3])
        if parts[0] == "attachments" and method == "GET" and parts[-1] in self.attachments:
            return web.Response(body=self.attachments[parts[-1]])
        return _json_response({"message": f"the fake does not serve {method} {path}", "code": 0}, 404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": self.application_id,
            "name": self.bot_user["username"],
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(1_100_000_000_000_000_001, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    def _interaction_callback(self, recorded: Recorded, *, interaction_id: str) -> dict[str, Any]:
        interaction: dict[str, Any] = {"id": interaction_id, "type": 2}
        callback_type = recorded.body["type"]
        if callback_type == 4:
            recorded.message_id = snowflake()
            interaction["response_message_id"] = recorded.message_id
            interaction["response_message_ephemeral"] = bool(recorded.flags & 64)
        elif callback_type == 5:
            interaction["response_message_loading"] = True
        return {"interaction": interaction}

    def _delete_message(self, channel_id: str, message_id: str) -> web.Response:
        if self.rate_limited_deletes:
            self.rate_limited_deletes -= 1
            limited = {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
            response = _json_response(limited, 429)
            # discord.py takes a 429 without a Via header for a Cloudflare ban, and does not retry it.
            response.headers.update({"Retry-After": "0.2", "X-RateLimit-Scope": "user", "Via": "1.1 google"})
            return response
        if (channel_id, message_id) not in self.messages:
            return _json_response({"message": "Unknown Message", "code": 10008}, 404)
        self.messages.discard((channel_id, message_id))
        return web.Response(status=204)

    def _created_message(self, recorded: Recorded, *, channel_id: str) -> web.Response:
        recorded.message_id = snowflake()
        self.messages.add((channel_id, recorded.message_id))
        return _json_response(self._message(recorded.message_id, channel_id, recorded))

    def _message(self, message_id: str, channel_id: str, recorded: Recorded) -> dict[str, Any]:
        data = recorded.data
        return message_payload(
            message_id, channel_id, self.bot_user,
            content=data.get("content") or "", flags=int(data.get("flags") or 0),
        )  # fmt: skip

    def _dm_channel(self, recipient_id: str) -> web.Response:
        channel_id = self.dm_channels.setdefault(recipient_id, snowflake())
        recipient = user_payload(recipient_id, f"user{recipient_id[-4:]}")
        return _json_response(
            {"id": channel_id, "type": 1, "recipients": [recipient], "last_message_id": None}
        )

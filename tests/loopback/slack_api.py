"""A small fake of Slack's servers on 127.0.0.1 that records everything it is sent.

It answers the Web API (``POST /api/<method>``, form or JSON), ``response_url`` posts
(``/respond/<id>``), file uploads (``/upload/<id>``) and a Socket Mode websocket (``/socket``). A bot
token is ``xoxb-<TEAM ID>``; anything else is ``invalid_auth``. Tests wait on recorded calls through
:meth:`FakeSlack.wait_for`, never on sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UCUBBY"
BOT_ID = "BCUBBY"
APP_ID = "ACUBBY"
_TOKEN = re.compile(r"xoxb-([A-Z0-9]+)")
_JSON_FIELDS = ("blocks", "view", "files")


def permalink(channel: str, ts: str) -> str:
    """The permalink the fake gives a message, as Slack shapes them."""
    return f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"


@dataclass
class Call:
    """One request the fake received. ``method`` is the Web API method, or ``response_url``,
    ``upload`` or ``socket_ack``."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    path: str = ""
    raw: bytes = b""
    index: int = field(default=0, compare=False)
    answer: dict[str, Any] = field(default_factory=dict, compare=False)


class FakeSlack:
    """``record=False`` (for benchmarks, where keeping every call would cost more than the calls
    themselves) keeps no calls; ``observe`` still sees each call as it arrives."""

    def __init__(self, *, record: bool = True, observe: Callable[[Call], None] | None = None) -> None:
        self.recording = record
        self._observe = observe
        self.calls: list[Call] = []
        self.failures: dict[str, str] = {}
        self.statuses: dict[str, int] = {}
        self.holds: dict[str, asyncio.Event] = {}
        self.rate_limits: dict[str, list[int]] = {}
        self.messages: set[tuple[str, str]] = set()  # (channel, ts) of messages posted and not deleted
        self.files: set[str] = set()  # ids of files uploaded and not deleted
        self._changed = asyncio.Condition()
        self._timestamps = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.admins: set[str] = set()  # user ids users.info reports as workspace admins
        self.shared: dict[str, dict[str, Any]] = {}  # files people shared: id -> user, channel, name, content
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get(
                    "/api/{method}", self._api
                ),  # the SDK GETs a few methods (chat.getPermalink, files.list, users.info)
                web.post("/respond/{id}", self._respond),
                web.post("/upload/{id}", self._upload),
                web.get("/socket", self._socket),
                web.get("/private/{id}", self._private),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/respond/{uuid.uuid4().hex}"

    # -- test controls -------------------------------------------------------------------------
    def fail(self, method: str, error: str = "internal_error", *, status: int = 200) -> None:
        """Answer every later call of ``method`` (``response_url`` included) with
        ``{"ok": false, "error": error}`` and HTTP ``status``."""
        self.failures[method] = error
        self.statuses[method] = status

    def rate_limit(self, method: str, *retry_after: int) -> None:
        """Answer the next calls of ``method`` with HTTP 429 and these ``Retry-After`` seconds."""
        self.rate_limits[method] = list(retry_after)

    def hold(self, method: str) -> asyncio.Event:
        """Make calls of ``method`` wait until the returned event is set."""
        self.holds[method] = asyncio.Event()
        return self.holds[method]

    def share_file(self, user: str, channel: str, name: str, content: bytes) -> str:
        """``user`` uploads a file in ``channel`` (files.list, files.info and url_private see it)."""
        file_id = f"FU{next(self._file_ids)}"
        self.shared[file_id] = {"user": user, "channel": channel, "name": name, "content": content}
        return file_id

    def _file_info(self, file_id: str) -> dict[str, Any]:
        shared = self.shared[file_id]
        return {
            "id": file_id,
            "name": shared["name"],
            "user": shared["user"],
            "channels": [shared["channel"]],
            "size": len(shared["content"]),
            "url_private": f"{self.url}/private/{file_id}",
        }

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, match: Callable[[Call], bool], *, after: int = 0, timeout: float = 15.0) -> Call:
        """The first recorded call at index >= ``after`` that ``match`` accepts, waiting if needed."""

        def found() -> Call | None:
            return next((call for call in self.calls[after:] if match(call)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        call = found()
        assert call is not None
        return call

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the most recently connected client."""
        assert self._sockets, "no Socket Mode client is connected"
        await self._sockets[-1].send_str(json.dumps(envelope))

    async def wait_for_socket(self, timeout: float = 15.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._sockets)), timeout)

    # -- recording -----------------------------------------------------------------------------
    async def _record(self, call: Call) -> None:
        if self._observe is not None:
            self._observe(call)
        if not self.recording:
            return
        async with self._changed:
            call.index = len(self.calls)
            self.calls.append(call)
            self._changed.notify_all()

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)  # the SDK sends some arguments in the URL
        if request.content_type == "application/json":
            params |= await request.json()
        else:
            params |= dict(await request.post())
        for name in _JSON_FIELDS:
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    @staticmethod
    def _token(request: web.Request, params: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer ") :]
        token = params.get("token")
        return token if isinstance(token, str) else None

    # -- handlers ------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = self._token(request, params)
        call = Call(method, params, token, request.path)
        await self._record(call)
        if method in self.holds:
            await self.holds[method].wait()
        if self.rate_limits.get(method):
            seconds = self.rate_limits[method].pop(0)
            headers = {"Retry-After": str(seconds)}
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        if method in self.failures:
            return self._failure(method)
        call.answer = self._answer(method, params, token)
        return web.json_response(call.answer)

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "auth.test":
            team = _TOKEN.fullmatch(token or "")
            if team is None:
                return {"ok": False, "error": "invalid_auth"}
            return {
                "ok": True,
                "team_id": team.group(1),
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "user": "cubby",
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        if method == "chat.postMessage":
            ts = f"{next(self._timestamps)}.000100"
            self.messages.add((str(params.get("channel")), ts))
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "chat.delete":
            posted = (str(params.get("channel")), str(params.get("ts")))
            if posted not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages.discard(posted)
            return {"ok": True, "channel": posted[0], "ts": posted[1]}
        if method == "files.delete":
            if params.get("file") not in self.files:
                return {"ok": False, "error": "file_not_found"}
            self.files.discard(str(params.get("file")))
            return {"ok": True}
        if method == "chat.getPermalink":
            channel, ts = str(params.get("channel")), str(params.get("message_ts"))
            return {"ok": True, "channel": channel, "permalink": permalink(channel, ts)}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{next(self._timestamps)}.000200"}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "VHOME", **(params.get("view") or {})}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users"))}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids)}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            self.files.update(f["id"] for f in params["files"])
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in params["files"]]}
        if method == "users.info":
            user = str(params.get("user"))
            return {"ok": True, "user": {"id": user, "is_admin": user in self.admins, "is_owner": False}}
        if method == "views.open":
            return {"ok": True, "view": {"id": "VMODAL", **(params.get("view") or {})}}
        if method == "files.list":
            found = [
                file_id
                for file_id, shared in reversed(self.shared.items())
                if shared["user"] == params.get("user") and shared["channel"] == params.get("channel")
            ]
            return {"ok": True, "files": [self._file_info(file_id) for file_id in found]}
        if method == "files.info":
            if params.get("file") not in self.shared:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": self._file_info(str(params["file"]))}
        if method == "oauth.v2.access":
            team = str(params.get("code"))  # tests use the team id as the OAuth code
            return {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": {"id": "UINSTALLER"},
                "scope": "commands,chat:write",
                "token_type": "bot",
                "access_token": f"xoxb-{team}",
                "bot_user_id": BOT_USER,
                "team": {"id": team, "name": f"Team {team}"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        return {"ok": True}

    def _failure(self, method: str) -> web.Response:
        body = {"ok": False, "error": self.failures[method]}
        return web.json_response(body, status=self.statuses.get(method, 200))

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), path=request.path))
        if "response_url" in self.failures:
            return self._failure("response_url")
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        await self._record(Call("upload", {"file_id": request.match_info["id"]}, path=request.path, raw=data))
        return web.Response(text="OK - uploaded")

    async def _private(self, request: web.Request) -> web.Response:
        """A file's ``url_private``: only with a bot token in the Authorization header."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        await self._record(Call("url_private", {"file": request.match_info["id"]}, token, request.path))
        shared = self.shared.get(request.match_info["id"])
        if shared is None or _TOKEN.fullmatch(token) is None:
            return web.Response(status=404)
        return web.Response(body=shared["content"], content_type="application/json")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await self._record(Call("socket_ack", json.loads(message.data), path="/socket"))
        return socket

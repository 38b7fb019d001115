"""Ack latency of a Discord slash command through Cubby's real Discord adapter (``CubbyBot`` on the
bench's own hub - so commands share the memory thread with the load, as in production - running the
unmodified discord.py client) against a minimal fake Discord REST API + gateway on 127.0.0.1.

The ack is the interaction's first callback (``POST /interactions/<id>/<token>/callback``): what
Discord waits at most 3 s for. It is timed from the moment the fake sends INTERACTION_CREATE.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import SecretStr

from bench.perf.corpus import user_key
from core import Agent, Hub, Settings

_API = "/api/v10"
APPLICATION_ID = "1300000000000000001"
BOT_USER = {
    "id": "1300000000000000002",
    "username": "cubby",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
}


def _json(data: Any) -> web.Response:
    # discord.py parses a body only when Content-Type is exactly "application/json" (no charset).
    return web.Response(body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


class FakeDiscord:
    """Just enough of Discord for the client to log in, sync commands and answer interactions."""

    def __init__(self) -> None:
        self.url = ""
        self.synced = asyncio.Event()
        self.callbacks: dict[str, asyncio.Future[tuple[float, int]]] = {}
        self._socket: web.WebSocketResponse | None = None
        self._sequence = itertools.count(1)
        self._ids = itertools.count(1_300_000_000_000_001_000)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", _API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def snowflake(self) -> str:
        return str(next(self._ids))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self._socket is None:
            raise RuntimeError("the Discord client is not connected")
        await self._socket.send_str(json.dumps({"op": 0, "t": event, "s": next(self._sequence), "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45_000}}))
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            op = json.loads(frame.data)["op"]
            if op == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif op == 2:
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "bench",
                    "resume_gateway_url": self.url.replace("http", "ws") + "/gateway",
                    "application": {"id": APPLICATION_ID, "flags": 0},
                }
                await self.dispatch("READY", ready)
        return socket

    async def _rest(self, request: web.Request) -> web.Response:
        received = time.perf_counter()
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == "application/json" else None
        parts = request.match_info["tail"].strip("/").split("/")
        if parts == ["users", "@me"]:
            return _json(BOT_USER)
        if parts == ["oauth2", "applications", "@me"]:
            owner = {"id": "1300000000000000003", "username": "owner", "discriminator": "0", "avatar": None}
            return _json(
                {"id": APPLICATION_ID, "name": "cubby", "description": "", "icon": None, "bot_public": True,
                 "bot_require_code_grant": False, "owner": owner, "verify_key": "0" * 64, "flags": 0}
            )  # fmt: skip
        if parts[0] == "applications" and parts[-1] == "commands" and request.method == "PUT":
            self.synced.set()
            return _json(
                [
                    {**c, "id": self.snowflake(), "application_id": APPLICATION_ID, "version": "1"}
                    for c in body
                ]
            )
        if parts[0] == "interactions" and parts[-1] == "callback":
            waiting = self.callbacks.get(parts[1])
            if waiting is not None and not waiting.done():
                waiting.set_result((received, int(body["type"]) if body else 0))
            return _json({"interaction": {"id": parts[1], "type": 2}})
        if parts[0] == "webhooks" and request.method in ("POST", "PATCH"):
            return _json(self._message(body or {}))
        return _json({"message": "not served by the bench fake", "code": 0})

    def _message(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.snowflake(), "channel_id": "0", "author": BOT_USER,
            "content": data.get("content") or "",
            "timestamp": "2026-11-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "components": [], "pinned": False, "type": 0, "flags": int(data.get("flags") or 0),
        }  # fmt: skip


class DiscordAckProbe:
    name = "discord"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.model_copy(
            update={"discord_token": SecretStr("bench-token"), "discord_dev_guild_id": None}
        )
        self._fake = FakeDiscord()
        self._task: asyncio.Task[None] | None = None
        self._bot: Any = None
        self._restore: list[tuple[Any, str, Any]] = []
        self.callback_types: Counter[int] = Counter()

    async def start(self, hub: Hub) -> None:
        import discord.gateway
        import discord.http
        import yarl

        from bots.discord import CubbyBot

        await self._fake.start()
        gateway = yarl.URL(self._fake.url.replace("http", "ws") + "/gateway")
        for owner, name, value in (
            (discord.http.Route, "BASE", self._fake.url + _API),
            (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", gateway),
        ):
            self._restore.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)
        self._bot = CubbyBot(hub=hub, agent=Agent(self._settings), settings=self._settings)
        self._task = asyncio.create_task(self._serve())
        synced = asyncio.create_task(self._fake.synced.wait())
        done, _ = await asyncio.wait({self._task, synced}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if synced not in done:
            synced.cancel()
            if self._task in done:
                self._task.result()  # raises what stopped the client
            raise RuntimeError("the Discord adapter did not log in and sync its commands")
        await asyncio.wait_for(self._bot.wait_until_ready(), 60)  # commands sync before the gateway

    async def _serve(self) -> None:
        async with self._bot:
            await self._bot.start(self._settings.discord_token.get_secret_value())

    async def command(self, person: int, query: str) -> float:
        """Send ``/recall query`` from ``person`` in a DM; returns the seconds until the first callback."""
        user_id = user_key(person).partition(":")[2]
        user = {"id": user_id, "username": f"p{person}", "discriminator": "0", "avatar": None}
        interaction_id = self._fake.snowflake()
        channel = {"id": self._fake.snowflake(), "type": 1, "recipients": [user]}
        payload = {
            "id": interaction_id, "application_id": APPLICATION_ID, "type": 2,
            "token": f"token-{interaction_id}", "version": 1, "locale": "en-US", "entitlements": [],
            "app_permissions": "0", "context": 1,
            "attachment_size_limit": 10_485_760, "authorizing_integration_owners": {"1": user_id},
            "user": user, "channel_id": channel["id"], "channel": channel,
            "data": {"id": self._fake.snowflake(), "name": "recall", "type": 1,
                     "options": [{"name": "query", "type": 3, "value": query}]},
        }  # fmt: skip
        answered = asyncio.get_running_loop().create_future()
        self._fake.callbacks[interaction_id] = answered
        started = time.perf_counter()
        await self._fake.dispatch("INTERACTION_CREATE", payload)
        try:
            received, callback_type = await asyncio.wait_for(answered, 30)
        finally:
            self._fake.callbacks.pop(interaction_id, None)
        self.callback_types[callback_type] += 1
        return received - started

    async def stop(self) -> None:
        if self._bot is not None:
            await self._bot.close()
        if self._task is not None:
            await asyncio.wait_for(asyncio.gather(self._task, return_exceptions=True), 60)
        for owner, name, value in reversed(self._restore):
            setattr(owner, name, value)
        await self._fake.stop()

"""Ack latency of a Slack slash command through Cubby's real Slack adapter (its Bolt app, built by
``bots.slack.app.build_bot`` on the bench's own hub - so the commands share the memory thread with the
load, as they would in production - and served over HTTP on 127.0.0.1 by ``bots.slack.runner``),
against a fake Slack Web API that answers ``auth.test`` and takes the ``response_url`` replies.

The ack is the HTTP response to the signed slash-command POST: what Slack waits at most 3 s for.
The reply that follows through ``response_url`` is timed too ("reply" figures).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import socket
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession, ClientTimeout, web
from pydantic import SecretStr

from bench.perf.corpus import user_key
from core import Agent, Hub, Settings

SIGNING_SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeSlackApi:
    """``POST /api/<method>`` answers ok; ``POST /respond/<n>`` records when reply ``n`` arrived."""

    def __init__(self) -> None:
        self.replied: dict[int, float] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond/{n}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        await request.read()
        answer: dict[str, Any] = {"ok": True}
        if request.match_info["method"] == "auth.test":
            answer |= {"user_id": "UBENCHBOT", "bot_id": "BBENCHBOT", "team_id": "T00000000", "user": "cubby"}
        return web.json_response(answer)

    async def _respond(self, request: web.Request) -> web.Response:
        await request.read()
        self.replied[int(request.match_info["n"])] = time.perf_counter()
        return web.Response(text="ok")


class SlackAckProbe:
    name = "slack"

    def __init__(self, settings: Settings) -> None:
        self._base_settings = settings
        self._fake = FakeSlackApi()
        self._bot: Any = None
        self._server: Any = None
        self._session: ClientSession | None = None
        self._numbers = itertools.count()
        self._sent: dict[int, float] = {}
        self._url = ""

    async def start(self, hub: Hub) -> None:
        from bots.slack.app import EVENTS_PATH, build_bot
        from bots.slack.runner import start_http

        await self._fake.start()
        port = free_port()
        settings = self._base_settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-bench"),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_app_token": None,
                "slack_client_id": None,
                "slack_client_secret": None,
                "slack_api_url": self._fake.url + "/api/",
                "port": port,
            }
        )
        self._bot = build_bot(hub, Agent(settings), settings)
        self._server = await start_http(self._bot.app, host="127.0.0.1", port=port)
        self._url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        self._session = ClientSession(timeout=ClientTimeout(total=30))

    async def command(self, person: int, query: str) -> float:
        """POST a signed ``/recall <query>`` as ``person``; returns the seconds until the ack."""
        assert self._session is not None
        _, team, user = user_key(person).split(":")
        number = next(self._numbers)
        body = urlencode(
            {
                "token": "unused",
                "team_id": team,
                "team_domain": "bench",
                "channel_id": "C0BENCH01",
                "channel_name": "bench",
                "user_id": user,
                "user_name": "bench",
                "command": "/recall",
                "text": query,
                "api_app_id": "A0BENCH01",
                "response_url": f"{self._fake.url}/respond/{number}",
                "trigger_id": f"{number}.bench",
            }
        )
        stamp = str(int(time.time()))
        signature = hmac.new(
            SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={signature}",
        }
        started = time.perf_counter()
        self._sent[number] = started
        async with self._session.post(self._url, data=body, headers=headers) as response:
            await response.read()
            acked = time.perf_counter()
        if response.status != 200:
            raise RuntimeError(f"the slash command got HTTP {response.status}")
        return acked - started

    def reply_seconds(self) -> list[float]:
        """Seconds from each command to its ``response_url`` reply, for replies that arrived."""
        return [self._fake.replied[n] - self._sent[n] for n in self._fake.replied if n in self._sent]

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.cleanup()
            await self._bot.services.work.idle(60)  # the replies still being worked on
        if self._session is not None:
            await self._session.close()
        await self._fake.stop()

"""Ack latency of a Slack slash command through Cubby's real Slack adapter (its Bolt app, built by
``bots.slack.app.build_bot`` on the bench's own hub - so the commands share the memory thread with the
load, as they would in production - and served over HTTP on 127.0.0.1 by ``bots.slack.runner``),
against the test suite's fake Slack (:class:`tests.loopback.slack_api.FakeSlack`, not recording).

The ack is the HTTP response to the signed slash-command POST: what Slack waits at most 3 s for.
The reply that follows through ``response_url`` is timed too ("reply" figures).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from aiohttp import ClientSession, ClientTimeout
from pydantic import SecretStr

from bench.perf.corpus import user_key
from core import Agent, Hub, Settings, UserKey
from tests.loopback.slack_api import Call, FakeSlack
from tests.loopback.slack_harness import SIGNING_SECRET, Person, SlackHarness, command_payload

BENCH_CHANNEL = "C0BENCH01"


class SlackAckProbe:
    name = "slack"

    def __init__(self, settings: Settings) -> None:
        self._base_settings = settings
        self._fake = FakeSlack(record=False, observe=self._observe)
        self._harness: SlackHarness | None = None
        self._server: Any = None
        self._sent: dict[str, float] = {}  # response_url path -> when the command was sent
        self._replied: dict[str, float] = {}  # response_url path -> when its reply arrived

    def _observe(self, call: Call) -> None:
        if call.method == "response_url":
            self._replied[call.path] = time.perf_counter()

    async def start(self, hub: Hub) -> None:
        from bots.slack.app import build_bot
        from bots.slack.runner import start_http

        await self._fake.start()
        settings = self._base_settings.model_copy(
            update={
                # The fake takes "xoxb-<team id>" as a bot token.
                "slack_bot_token": SecretStr("xoxb-T00000000"),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_app_token": None,
                "slack_client_id": None,
                "slack_client_secret": None,
                "slack_api_url": self._fake.api_url,
            }
        )
        bot = build_bot(hub, Agent(settings), settings)
        self._server = await start_http(bot.app, host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{self._server.addresses[0][1]}"
        self._harness = SlackHarness(self._fake, bot, url, ClientSession(timeout=ClientTimeout(total=30)))

    async def command(self, person: int, query: str) -> float:
        """POST a signed ``/recall <query>`` as ``person``; returns the seconds until the ack."""
        assert self._harness is not None
        key = UserKey.parse(user_key(person))
        assert key.workspace is not None
        response_url = self._fake.response_url()
        form = command_payload(
            Person(key.user_id, key.workspace), "/recall", query, response_url, BENCH_CHANNEL
        )
        started = time.perf_counter()
        self._sent[urlparse(response_url).path] = started
        status, _ = await self._harness.post_form(form)
        acked = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"the slash command got HTTP {status}")
        return acked - started

    def reply_seconds(self) -> list[float]:
        """Seconds from each command to its ``response_url`` reply, for replies that arrived."""
        return [self._replied[path] - self._sent[path] for path in self._replied if path in self._sent]

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.cleanup()
        if self._harness is not None:
            await self._harness.bot.services.work.idle(60)  # the replies still being worked on
            await self._harness.session.close()
        await self._fake.stop()

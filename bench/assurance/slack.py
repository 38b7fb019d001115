"""Fuzzing the Slack adapter: the real Bolt app built by ``bots.slack.app.build_bot`` on the run's hub,
served over HTTP on 127.0.0.1, driven with correctly signed requests by the test suite's harness
(``tests/slack``) against its fake Slack Web API.

Slash commands arrive as URL-encoded forms, so invalid UTF-8 is sent percent-encoded (Bolt decodes it
with replacement characters); direct messages and mentions arrive as JSON events, which can carry
lone surrogates.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from pydantic import SecretStr

from bench.assurance.fuzz import Fuzz, FuzzInputs, over_form, over_json, received_from_form
from bench.assurance.judge import Answer
from bots.slack import blocks
from bots.slack.app import build_bot
from bots.slack.runner import start_http
from core import Agent, Hub, Settings, UserKey
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import SIGNING_SECRET, Person, SlackHarness, text_of

TEAM = "T0FUZZ"
SLASH = ("/remember", "/recall", "/forget", "/cubby")
GROUPS = (*SLASH, "dm", "mention", "bystander")  # whose people are whose
# Slack markup that would notify someone, link somewhere or reference a channel if sent unescaped.
_LIVE_MARKUP = re.compile(r"<[!@#]|<(?:https?|mailto):")


def injected(texts: list[str]) -> int:
    return sum(bool(_LIVE_MARKUP.search(text)) for text in texts)


class SlackDriver:
    name = "slack"
    commands = (*SLASH, "dm", "mention")

    def __init__(self) -> None:
        self._fake = FakeSlack()
        self._runner: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._harness: SlackHarness | None = None

    async def start(self, hub: Hub, settings: Settings) -> None:
        await self._fake.start()
        settings = settings.model_copy(
            update={
                "slack_bot_token": SecretStr(f"xoxb-{TEAM}"),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_api_url": self._fake.api_url,
                "slack_app_token": None,
                "slack_client_id": None,
                "slack_client_secret": None,
            }
        )
        bot = build_bot(hub, Agent(settings), settings)
        self._runner = await start_http(bot.app, host="127.0.0.1", port=0)
        self._session = aiohttp.ClientSession()
        url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._harness = SlackHarness(self._fake, bot, url, self._session)

    def person(self, command: str, index: int) -> tuple[Any, UserKey]:
        number = GROUPS.index(command) * 10_000 + index
        person = Person(f"U0FUZZ{number:06d}", TEAM)
        return person, UserKey.slack(TEAM, person.user)

    def received(self, command: str, fuzz: Fuzz) -> str:
        return received_from_form(fuzz) if command in SLASH else over_json(fuzz)

    async def send(self, person: Any, command: str, fuzz: Fuzz, inputs: FuzzInputs) -> Answer:
        harness = self._harness
        assert harness is not None
        if command == "dm":
            call = await harness.dm(person, over_json(fuzz))
            texts = [text_of(call.params)]
            return Answer(
                texts, over_json(fuzz), call.params.get("channel") == person.dm_channel, injected(texts)
            )
        if command == "mention":
            call = await harness.mention(person, over_json(fuzz))
            texts = [text_of(call.params)]
            # The help text is the one reply a channel may see (core.visibility); it names nobody.
            public_help = blocks.fit(blocks.help_text(), blocks.MESSAGE_TEXT_LIMIT)
            private = call.method == "chat.postEphemeral" or texts == [public_help]
            return Answer(texts, over_json(fuzz), private, injected(texts))
        if command == "/cubby":
            fuzz = inputs.rng.choice(["export", "help", "", " EXPORT ", fuzz, fuzz, fuzz, fuzz])
        mark = len(self._fake.calls)
        reply = await harness.command(person, command, over_form(fuzz))  # type: ignore[arg-type]
        texts = [text_of(reply)]
        files, files_private = self._exports_since(mark, person)
        private = reply.get("response_type") == "ephemeral" and files_private
        return Answer(texts, received_from_form(fuzz), private, injected(texts), files)

    def _exports_since(self, mark: int, person: Person) -> tuple[list[dict[str, Any]], bool]:
        """The export files of ``person`` uploaded since ``mark`` (told apart by the ``user`` inside
        each file), and whether every one of them was shared only in that person's DM channel."""
        calls = self._fake.calls[mark:]
        uploaded = {c.params["file_id"]: c.raw for c in calls if c.method == "upload"}
        files: list[dict[str, Any]] = []
        private = True
        for call in (c for c in calls if c.method == "files.completeUploadExternal"):
            for item in call.params.get("files", []):
                document = json.loads(uploaded.get(item["id"], b"{}"))
                if document.get("user") == str(UserKey.slack(TEAM, person.user)):
                    files.append(document)
                    private = private and call.params.get("channel_id") == person.dm_channel
        return files, private

    def fail_platform(self) -> None:
        """Slack refuses every reply, DM and upload from now on (the bot must log, not leak)."""
        for method in (
            "chat.postMessage",
            "chat.postEphemeral",
            "conversations.open",
            "files.completeUploadExternal",
        ):
            self._fake.fail(method, "channel_not_found")

    async def stop(self) -> None:
        if self._harness is not None:
            await self._harness.settle()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        await self._fake.stop()

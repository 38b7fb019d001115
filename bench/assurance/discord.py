"""Fuzzing the Discord adapter: the real ``CubbyBot`` (unmodified discord.py) logged in to the test
suite's fake Discord REST API + gateway (``tests/discord``) on 127.0.0.1, driven with the gateway
events Discord sends: slash-command interactions and messages (DMs, and mentions in a server).

Gateway events are JSON, so invalid UTF-8 arrives as lone surrogates. Option values are sent as
they come - also beyond the lengths the commands declare, which Discord's client would enforce - and
some interactions carry an option the command does not declare, naming the bystander.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import discord
from pydantic import SecretStr

from bench.assurance.fuzz import Fuzz, FuzzInputs, over_json
from bench.assurance.judge import Answer
from bench.assurance.report import CANARY
from bots.discord import CubbyBot
from bots.discord.respond import Timing
from core import Agent, Hub, Settings, UserKey
from tests.loopback.discord_gateway import FakeDiscord, Recorded
from tests.loopback.discord_harness import (
    APPLICATION_ID,
    BOT_USER,
    GUILD_ID,
    DiscordSession,
    Person,
    guild_payload,
)

TOKEN = "assurance-discord-token"
EPHEMERAL = 64
DEFERRED = 5
# Mentions that would ping (with mentions allowed) or render as a person's or role's chip. Channel
# links (<#id>) are left out: Cubby writes one itself when it DMs an answer to a server message.
_PINGS = re.compile(r"(?<!\u200b)@(?:everyone|here)|<@[!&]?\d+>")
SLASH = ("remember", "recall", "forget", "export")
GROUPS = (*SLASH, "dm", "mention", "bystander")  # whose people are whose
FIRST_PERSON = 1_200_000_000_001_000_000
BYSTANDER_ID = str(FIRST_PERSON + GROUPS.index("bystander") * 100_000)
PAGES = (0, -1, 1, 2, 3, 10**6, 2**53, 99_999_999_999_999_999_999)


class CachedSession(DiscordSession):
    """The harness's session, remembering the command ids it synced instead of searching every
    request the fake ever recorded for them on each command."""

    _ids: dict[str, str] | None = None

    def command_ids(self) -> dict[str, str]:
        if self._ids is None:
            self._ids = super().command_ids()
        return self._ids


def injected(reply: Recorded) -> int:
    """1 if ``reply`` could ping someone: a live mention in its text, or mentions not switched off."""
    mentions = reply.data.get("allowed_mentions")
    switched_off = isinstance(mentions, dict) and mentions.get("parse") == []
    return int(bool(_PINGS.search(reply.content)) or not switched_off)


def canaries(text: str) -> set[str]:
    return set(CANARY.findall(text))


class DiscordDriver:
    name = "discord"
    commands = (*SLASH, "dm", "mention")

    def __init__(self) -> None:
        self._fake = FakeDiscord(application_id=APPLICATION_ID, bot_user=BOT_USER, guilds=[guild_payload()])
        self._session: CachedSession | None = None
        self._bot: CubbyBot | None = None
        self._task: asyncio.Task[None] | None = None
        self._agent: Agent | None = None
        self._saved: tuple[Any, Any] = (None, None)
        self._dms_closed = False

    async def start(self, hub: Hub, settings: Settings) -> None:
        await self._fake.start()
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self._fake.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = discord.gateway.yarl.URL(self._fake.gateway_url)
        settings = settings.model_copy(
            update={"discord_token": SecretStr(TOKEN), "discord_dev_guild_id": int(GUILD_ID)}
        )
        self._agent = Agent(settings)
        timing = Timing(question_timeout=5.0)
        self._bot = CubbyBot(
            hub=hub, agent=self._agent, settings=settings, timing=timing, guild_ready_timeout=0.05
        )
        self._task = asyncio.create_task(self._bot.start(TOKEN))
        await asyncio.wait_for(self._bot.wait_until_ready(), 30)
        self._session = CachedSession(self._fake, self._bot, hub)

    def person(self, command: str, index: int) -> tuple[Any, UserKey]:
        number = GROUPS.index(command) * 100_000 + index
        person = Person(str(FIRST_PERSON + number), f"fuzz{number}")
        self._fake.dm_channels[person.id] = person.dm_channel_id
        if self._dms_closed:
            self._fake.users_refusing_dms.add(person.id)
        return person, person.key

    def received(self, command: str, fuzz: Fuzz) -> str:
        return over_json(fuzz)

    async def _interaction_reply(self, sent: Any, mark: int) -> Recorded:
        def for_sent(r: Recorded) -> bool:
            return sent.token in r.path or sent.id in r.path

        [first] = await self._fake.wait_for(for_sent, after=mark, timeout=30)
        if isinstance(first.body, dict) and first.body.get("type") == DEFERRED:
            return (await self._fake.wait_for(for_sent, after=mark, count=2, timeout=30))[1]
        return first

    async def _slash(self, person: Person, command: str, fuzz: Fuzz, inputs: FuzzInputs) -> Answer:
        assert self._session is not None
        text = over_json(fuzz)
        options: dict[str, Any] = {}
        if command == "remember":
            options["text"] = text
        elif command == "recall":
            if text:
                options["query"] = text
            if inputs.rng.random() < 0.3:
                options["page"] = inputs.rng.choice(PAGES)
        elif command == "forget" and text:
            options["memory"] = text
        if inputs.rng.random() < (0.5 if command == "export" else 0.1):
            # An option the command does not declare, naming someone else: it must change nothing.
            options[inputs.rng.choice(["user", "user_id", "member"])] = inputs.rng.choice(
                [BYSTANDER_ID, text]
            )
        mark = self._fake.mark()
        sent = await self._session.slash(person, command, in_dm=inputs.rng.random() < 0.3, **options)
        reply = await self._interaction_reply(sent, mark)
        files = [self._parsed(content) for content in reply.files.values()]
        return Answer([reply.content], text, bool(reply.flags & EPHEMERAL), injected(reply), files)

    @staticmethod
    def _parsed(content: bytes) -> dict[str, Any]:
        try:
            return json.loads(content)
        except ValueError:
            return {"unreadable export": content[:200].decode("utf-8", "replace")}

    async def _message(self, person: Person, command: str, fuzz: Fuzz) -> Answer:
        assert self._session is not None
        text = over_json(fuzz)
        mark = self._fake.mark()
        message_id = await self._session.say(
            person, text, in_dm=command == "dm", mention_bot=command == "mention"
        )

        def replies_to_message(r: Recorded) -> bool:
            reference = r.body.get("message_reference") if isinstance(r.body, dict) else None
            return (
                r.method == "POST"
                and isinstance(reference, dict)
                and str(reference.get("message_id")) == message_id
            )

        [reply] = await self._fake.wait_for(replies_to_message, after=mark, timeout=30)
        dm_path = f"/channels/{person.dm_channel_id}/messages"
        in_dm = [
            r
            for r in self._fake.requests[mark:]
            if r.path == dm_path and r.method == "POST" and r is not reply
        ]
        texts = [reply.content, *(r.content for r in in_dm)]
        # A reply in the server channel must show none of the person's memories (they go by DM).
        private = reply.path == dm_path or not canaries(reply.content) - canaries(text)
        injections = injected(reply) + sum(injected(r) for r in in_dm)
        return Answer(texts, text, private, injections)

    async def send(self, person: Any, command: str, fuzz: Fuzz, inputs: FuzzInputs) -> Answer:
        if command in SLASH:
            return await self._slash(person, command, fuzz, inputs)
        return await self._message(person, command, fuzz)

    def fail_platform(self) -> None:
        """Everyone has closed their DMs from now on: answers sent by DM fail."""
        self._dms_closed = True
        self._fake.users_refusing_dms |= set(self._fake.dm_channels)

    async def stop(self) -> None:
        if self._bot is not None:
            await self._bot.close()
        if self._task is not None:
            await asyncio.wait_for(self._task, 30)
        if self._agent is not None:
            await self._agent.close()
        await self._fake.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved

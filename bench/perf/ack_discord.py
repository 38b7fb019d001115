"""Ack latency of a Discord slash command through Cubby's real Discord adapter (``CubbyBot`` on the
bench's own hub - so commands share the memory thread with the load, as in production - running the
unmodified discord.py client) against the test suite's fake Discord REST API + gateway
(:class:`tests.loopback.discord_gateway.FakeDiscord`, not recording) on 127.0.0.1.

The ack is the interaction's first callback (``POST /interactions/<id>/<token>/callback``): what
Discord waits at most 3 s for. It is timed from the moment the command is sent to the gateway.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from pydantic import SecretStr

from bench.perf.corpus import user_key
from core import Agent, Hub, Settings, UserKey
from tests.loopback.discord_gateway import FakeDiscord, Recorded
from tests.loopback.discord_harness import APPLICATION_ID, BOT_USER, DiscordSession, Person


class DiscordAckProbe:
    name = "discord"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.model_copy(
            update={"discord_token": SecretStr("bench-token"), "discord_dev_guild_id": None}
        )
        self._fake = FakeDiscord(
            application_id=APPLICATION_ID, bot_user=BOT_USER, guilds=[], record=False, observe=self._observe
        )
        self._synced = asyncio.Event()
        # interaction id -> (when its first callback arrived, the callback type); the bench waits on
        # ``_answered`` for the id it just sent.
        self._first_callbacks: dict[str, tuple[float, int]] = {}
        self._answered = asyncio.Condition()
        self._session: DiscordSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._bot: Any = None
        self._restore: list[tuple[Any, str, Any]] = []
        self.callback_types: Counter[int] = Counter()

    def _observe(self, request: Recorded) -> None:
        parts = request.path.strip("/").split("/")
        if parts[0] == "applications" and parts[-1] == "commands" and request.method == "PUT":
            self._synced.set()
        elif parts[0] == "interactions" and parts[-1] == "callback":
            kind = int(request.body["type"]) if request.body else 0
            self._first_callbacks.setdefault(parts[1], (time.perf_counter(), kind))
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._answered:
            self._answered.notify_all()

    async def start(self, hub: Hub) -> None:
        import discord.gateway
        import discord.http
        import yarl

        from bots.discord import CubbyBot

        await self._fake.start()
        for owner, name, value in (
            (discord.http.Route, "BASE", self._fake.api_base),
            (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self._fake.gateway_url)),
        ):
            self._restore.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)
        self._bot = CubbyBot(hub=hub, agent=Agent(self._settings), settings=self._settings)
        self._session = DiscordSession(self._fake, self._bot, hub)
        self._task = asyncio.create_task(self._serve())
        synced = asyncio.create_task(self._synced.wait())
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
        assert self._session is not None
        someone = Person(UserKey.parse(user_key(person)).user_id, f"p{person}")
        started = time.perf_counter()
        sent = await self._session.slash(someone, "recall", in_dm=True, query=query)
        async with self._answered:
            await asyncio.wait_for(self._answered.wait_for(lambda: sent.id in self._first_callbacks), 30)
        received, callback_type = self._first_callbacks.pop(sent.id)
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

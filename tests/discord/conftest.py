"""Fixtures for the Discord adapter: a fake Discord on 127.0.0.1 and the real CubbyBot - real
discord.py, real sockets, a real hub on a temp data dir - logged in to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import discord
import pytest
from pydantic import SecretStr

from bots.discord import CubbyBot
from bots.discord.respond import Timing
from core import Agent, Settings, open_hub
from tests.loopback.discord_gateway import FakeDiscord
from tests.loopback.discord_harness import (
    ALICE,
    APPLICATION_ID,
    BOT_USER,
    GUILD_ID,
    DiscordSession,
    guild_payload,
)

TOKEN = "fake-discord-token"
# Tests that expect a direct answer must not see it deferred on a busy CI machine; the deferred path has
# tests of its own (defer_after=0). Tests that change another part of the timing start from this one.
DIRECT_TIMING = Timing(defer_after=2.0)
StartCubby = Callable[..., Awaitable[DiscordSession]]


@pytest.fixture
def discord_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"discord_token": SecretStr(TOKEN), "discord_dev_guild_id": int(GUILD_ID)}
    )


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(application_id=APPLICATION_ID, bot_user=BOT_USER, guilds=[guild_payload()])
    fake.dm_channels[ALICE.id] = ALICE.dm_channel_id
    await fake.start()
    # Point the unmodified client at the fake; monkeypatch puts Discord's real URLs back afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.yarl.URL(fake.gateway_url)
    )
    yield fake
    await fake.stop()


@pytest.fixture
async def start_cubby(fake_discord: FakeDiscord, discord_settings: Settings) -> AsyncIterator[StartCubby]:
    """Start CubbyBot against the fake and wait until it is ready; stopped at the end of the test."""
    async with AsyncExitStack() as stack:

        async def start(
            settings: Settings = discord_settings, timing: Timing | None = None
        ) -> DiscordSession:
            hub = await stack.enter_async_context(open_hub(settings=settings))
            agent = Agent(settings)
            stack.push_async_callback(agent.close)  # before the hub closes, after the bot stops
            timing = timing or DIRECT_TIMING
            bot = CubbyBot(hub=hub, agent=agent, settings=settings, timing=timing, guild_ready_timeout=0.05)
            task = asyncio.create_task(bot.start(TOKEN))
            stack.push_async_callback(_stop, bot, task)
            ready = asyncio.create_task(bot.wait_until_ready())
            await asyncio.wait({ready, task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                raise AssertionError("the bot did not get ready") from (
                    task.exception() if task.done() else None
                )
            return DiscordSession(fake_discord, bot, hub)

        yield start


async def _stop(bot: CubbyBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def cubby(start_cubby: StartCubby) -> DiscordSession:
    return await start_cubby()

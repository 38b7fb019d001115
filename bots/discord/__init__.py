"""Cubby on Discord: ``cubby discord`` runs :func:`run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord

from bots.discord.bot import CubbyBot
from bots.health import HealthServer, Readiness
from bots.shutdown import DRAIN_SECONDS, stop_on_signals
from core import Agent, ConfigError, Settings, logs, open_hub

log = logging.getLogger(__name__)

__all__ = ["CubbyBot", "run"]


async def run(settings: Settings, *, stop: asyncio.Event | None = None, host: str = "0.0.0.0") -> int:
    """Connect to Discord and answer until SIGINT/SIGTERM (or until ``stop`` is set). Returns the exit
    code. Stopping takes the same path as Slack's: stop taking work, drain what was taken, close.
    ``host`` is where the optional health port (``CUBBY_HEALTH_PORT``) listens."""
    if settings.discord_token is None:
        raise ConfigError("cubby discord needs DISCORD_TOKEN (the bot token from the Developer Portal)")
    own_stop = stop is None
    stop = stop or asyncio.Event()
    with stop_on_signals(stop) if own_stop else contextlib.nullcontext():
        async with open_hub(settings=settings) as hub:
            log.info("data dir: %s", settings.data_dir.absolute())
            agent = Agent(settings)
            try:
                bot = CubbyBot(hub=hub, agent=agent, settings=settings)
                logs.cap_library_loggers()  # discord.py quotes whole payloads, memories included, at DEBUG
                readiness = Readiness(hub, lambda: bot.is_ready() and not bot.is_closed())
                async with HealthServer(readiness, host=host, port=settings.health_port):
                    return await _serve(bot, settings.discord_token.get_secret_value(), stop)
            finally:
                await agent.close()  # lets pending fact extractions finish before the hub closes


async def _serve(bot: CubbyBot, token: str, stop: asyncio.Event) -> int:
    async with bot:
        connection = asyncio.create_task(bot.start(token))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not connection.done():
            await bot.shut_down(DRAIN_SECONDS)
        stopping.cancel()
        try:
            await connection
        except discord.LoginFailure:
            log.error("Discord rejected DISCORD_TOKEN; copy the bot token again from the Developer Portal")
            return 1
        except discord.HTTPException as error:
            log.error("Discord refused a request at startup (HTTP %s, code %s)", error.status, error.code)
            return 1
        except (aiohttp.ClientError, OSError) as error:
            log.error("could not connect to Discord: %s", type(error).__name__)
            return 1
    log.info("Cubby has left Discord")
    return 0

"""Cubby on Discord: ``cubby discord`` runs :func:`run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
import discord

from bots.discord.bot import CubbyBot
from bots.health import HealthServer, Readiness
from core import Agent, ConfigError, Settings, open_hub

log = logging.getLogger(__name__)

__all__ = ["CubbyBot", "run"]


async def run(settings: Settings, *, host: str = "0.0.0.0") -> int:
    """Connect to Discord and answer until stopped (Ctrl-C or SIGTERM). Returns the exit code.
    ``host`` is where the optional health port (``CUBBY_HEALTH_PORT``) listens."""
    if settings.discord_token is None:
        raise ConfigError("cubby discord needs DISCORD_TOKEN (the bot token from the Developer Portal)")
    # discord.py's DEBUG logs quote whole payloads - message text and memories included.
    logging.getLogger("discord").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    async with open_hub(settings=settings) as hub:
        log.info("data dir: %s", settings.data_dir.absolute())
        agent = Agent(settings)
        try:
            bot = CubbyBot(hub=hub, agent=agent, settings=settings)
            readiness = Readiness(hub, lambda: bot.is_ready() and not bot.is_closed())
            async with HealthServer(readiness, host=host, port=settings.health_port):
                return await _serve(bot, settings.discord_token.get_secret_value())
        finally:
            await agent.close()  # lets pending fact extractions finish before the hub closes


async def _serve(bot: CubbyBot, token: str) -> int:
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        log.error("Discord rejected DISCORD_TOKEN; copy the bot token again from the Developer Portal")
        return 1
    except discord.HTTPException as error:
        log.error("Discord refused a request at startup (HTTP %s, code %s)", error.status, error.code)
        return 1
    except (aiohttp.ClientError, OSError) as error:
        log.error("could not connect to Discord: %s", type(error).__name__)
        return 1
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
    return 0

"""Cubby on Discord: ``cubby discord`` runs :func:`run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
import discord

from bots.discord.bot import CubbyBot
from core import Agent, ConfigError, Settings, logs, open_hub

log = logging.getLogger(__name__)

__all__ = ["CubbyBot", "run"]


async def run(settings: Settings) -> int:
    """Connect to Discord and answer until stopped (Ctrl-C or SIGTERM). Returns the exit code."""
    if settings.discord_token is None:
        raise ConfigError("cubby discord needs DISCORD_TOKEN (the bot token from the Developer Portal)")
    async with open_hub(settings=settings) as hub:
        agent = Agent(settings)
        try:
            bot = CubbyBot(hub=hub, agent=agent, settings=settings)
            logs.cap_library_loggers()  # discord.py quotes whole payloads, memories included, at DEBUG
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

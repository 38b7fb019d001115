"""``cubby slack``: open the memory hub, connect to Slack, run until stopped, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.health import HealthServer, Readiness, add_health_routes
from bots.shutdown import DRAIN_SECONDS, stop_on_signals
from bots.slack.app import EVENTS_PATH, SlackBot, build_bot, choose_mode, secret_value
from bots.slack.services import slack_error_code
from core import Agent, ConfigError, CubbyError, Settings, logs, open_hub

log = logging.getLogger(__name__)


async def start_http(
    app: AsyncApp, *, host: str, port: int, readiness: Readiness | None = None
) -> web.AppRunner:
    """Serve ``app`` (events, commands, interactivity; and the OAuth pages in OAuth mode), with
    ``/healthz`` and ``/readyz`` beside them when ``readiness`` is given."""
    server = app.server(port=port, path=EVENTS_PATH, host=host)
    if readiness is not None:
        add_health_routes(server.web_app, readiness, with_metrics=False)
    runner = web.AppRunner(server.web_app, access_log=None)
    logs.cap_library_loggers()  # the server's loggers exist now
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def connect_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(app, app_token)
    logs.cap_library_loggers()  # the Socket Mode client's loggers exist now
    await handler.connect_async()
    return handler


async def check_bot_token(bot: SlackBot) -> None:
    """Fail at start, with a clear message, when Slack rejects the bot token."""
    if bot.mode == "oauth":
        return  # each workspace's token comes from its installation
    try:
        await bot.app.client.auth_test()
    except SlackApiError as error:
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({slack_error_code(error)})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        url = bot.app.client.base_url
        raise CubbyError(f"could not reach the Slack API at {url} ({type(error).__name__})") from None


async def serve_until(stop: asyncio.Event, bot: SlackBot, settings: Settings, host: str) -> None:
    """Take requests from Slack until ``stop`` is set, then stop taking them."""
    hub = bot.services.hub
    if bot.mode == "socket":
        handler = await connect_socket_mode(bot.app, secret_value(settings.slack_app_token))
        log.info("Cubby is connected to Slack over Socket Mode")
        readiness = Readiness(hub, handler.client.is_connected)
        try:
            async with HealthServer(readiness, host=host, port=settings.health_port):
                await stop.wait()
        finally:
            await handler.close_async()
    else:
        readiness = Readiness(hub, lambda: True)  # the token was checked before serving
        runner = await start_http(bot.app, host=host, port=settings.port, readiness=readiness)
        log.info("Cubby is serving Slack (%s mode) on port %d", bot.mode, settings.port)
        try:
            async with HealthServer(readiness, host=host, port=settings.health_port):
                await stop.wait()
        finally:
            await runner.cleanup()


async def run(settings: Settings, *, stop: asyncio.Event | None = None, host: str = "0.0.0.0") -> int:
    """Run the Slack bot until SIGINT/SIGTERM (or until ``stop`` is set); returns the exit code."""
    choose_mode(settings)  # a configuration mistake is reported before anything starts
    own_stop = stop is None
    stop = stop or asyncio.Event()
    with stop_on_signals(stop) if own_stop else contextlib.nullcontext():
        async with open_hub(settings=settings) as hub:
            log.info("data dir: %s", settings.data_dir.absolute())
            agent = Agent(settings)
            bot = build_bot(hub, agent, settings)
            await check_bot_token(bot)
            await serve_until(stop, bot, settings, host)  # returns once Slack's requests stop coming
            # Finish what was acknowledged before the hub closes under it.
            if not await bot.services.work.idle(DRAIN_SECONDS):
                log.warning("stopped with Slack work still running")
            await agent.close()  # lets pending fact extractions finish
            await bot.shared.close()
    log.info("Cubby has left Slack")
    return 0

"""Health and metrics of ``cubby discord`` on ``CUBBY_HEALTH_PORT``."""

from __future__ import annotations

import asyncio

from bots.discord import run
from bots.health import HealthServer, Readiness
from core import Settings, open_hub
from tests.health_client import free_port, get, value, wait_ready
from tests.loopback.discord_gateway import FakeDiscord
from tests.loopback.discord_harness import ALICE, DiscordSession


async def test_cubby_discord_answers_health_and_readiness_on_the_health_port(
    fake_discord: FakeDiscord, discord_settings: Settings
) -> None:
    port = free_port()
    running = asyncio.create_task(
        run(discord_settings.model_copy(update={"health_port": port}), host="127.0.0.1")
    )
    try:
        assert await get(port, "/healthz") == (200, {"status": "alive"})
        assert await wait_ready(port) == {"ready": True, "store": True, "platform": True}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_scrape_shows_commands_and_erasures_counted_without_who(cubby: DiscordSession) -> None:
    port = free_port()
    readiness = Readiness(cubby.hub, lambda: cubby.bot.is_ready())
    async with HealthServer(readiness, host="127.0.0.1", port=port):
        before = (await get(port, "/metrics"))[1]
        await cubby.reply_to(await cubby.slash(ALICE, "remember", text="I am vegetarian"))
        await cubby.reply_to(await cubby.slash(ALICE, "remember", text=""))  # refused: counted as an error
        [record] = await cubby.memory(ALICE).get_all()
        await cubby.reply_to(await cubby.slash(ALICE, "forget", memory=record.id))
        status, after = await get(port, "/metrics")

    assert status == 200
    remember = {"platform": "discord", "command": "remember"}
    assert (
        value(after, "cubby_commands_total", **remember) - value(before, "cubby_commands_total", **remember)
        == 2
    )
    refused = remember | {"error": "InvalidInput"}
    errors = "cubby_command_errors_total"
    assert value(after, errors, **refused) - value(before, errors, **refused) == 1
    assert ALICE.id not in after and record.id not in after and "vegetarian" not in after


async def test_not_ready_when_the_store_does_not_answer(settings: Settings) -> None:
    async with open_hub(settings=settings) as hub:
        readiness = Readiness(hub, lambda: True)
        assert await readiness.report() == {"store": True, "platform": True}
    assert await readiness.report() == {"store": False, "platform": True}  # the hub is closed
    port = free_port()
    async with HealthServer(readiness, host="127.0.0.1", port=port):
        assert await get(port, "/readyz") == (503, {"ready": False, "store": False, "platform": True})
        assert await get(port, "/healthz") == (200, {"status": "alive"})

"""Health and metrics of ``cubby slack``: ``/healthz`` and ``/readyz`` on the HTTP server Slack posts to,
and on ``CUBBY_HEALTH_PORT`` (with ``/metrics``) in Socket Mode and HTTP mode alike."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import aiohttp
from pydantic import SecretStr

from core import Settings
from tests.health_client import free_port, get, value, wait_ready
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import SIGNING_SECRET, command_payload, signature_headers

from .conftest import ALICE
from .test_running import running


async def test_http_mode_answers_health_on_its_port_and_counts_commands_on_the_health_port(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    port, health_port = free_port(), free_port()
    http_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake_slack.api_url,
            "port": port,
            "health_port": health_port,
        }
    )

    async def probe() -> None:
        assert await get(port, "/healthz") == (200, {"status": "alive"})
        assert await wait_ready(port) == {"ready": True, "store": True, "platform": True}
        assert (await get(port, "/metrics"))[0] == 404  # not on the public port
        before = (await get(health_port, "/metrics"))[1]

        body = urlencode(command_payload(ALICE, "/remember", "I like jazz", fake_slack.response_url()))
        headers = {"Content-Type": "application/x-www-form-urlencoded"} | signature_headers(body)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as sent,
        ):
            assert sent.status == 200
        await fake_slack.wait_for(lambda c: c.method == "response_url")

        status, after = await get(health_port, "/metrics")
        assert status == 200
        counted = {"platform": "slack", "command": "remember"}
        assert (
            value(after, "cubby_commands_total", **counted)
            == value(before, "cubby_commands_total", **counted) + 1
        )
        timed = value(after, "cubby_command_duration_seconds_count", **counted)
        assert timed == value(before, "cubby_command_duration_seconds_count", **counted) + 1
        assert ALICE.user not in after and ALICE.team not in after and "jazz" not in after

    assert await running(http_settings, probe) == 0


async def test_socket_mode_is_ready_on_the_health_port_once_connected(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    health_port = free_port()
    socket_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_app_token": SecretStr("xapp-1-A0CUBBY-1-secret"),
            "slack_api_url": fake_slack.api_url,
            "health_port": health_port,
        }
    )

    async def probe() -> None:
        await fake_slack.wait_for_socket()
        assert await get(health_port, "/healthz") == (200, {"status": "alive"})
        assert await wait_ready(health_port) == {"ready": True, "store": True, "platform": True}
        status, scrape = await get(health_port, "/metrics")
        assert status == 200 and "cubby_commands_total" in scrape

    assert await running(socket_settings, probe) == 0


async def test_without_a_health_port_socket_mode_opens_no_port(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    unused = free_port()
    socket_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_app_token": SecretStr("xapp-1-A0CUBBY-1-secret"),
            "slack_api_url": fake_slack.api_url,
        }
    )

    async def probe() -> None:
        await fake_slack.wait_for_socket()
        try:
            await asyncio.wait_for(get(unused, "/healthz", wait=0.2), 5)
        except aiohttp.ClientConnectorError:
            return
        raise AssertionError("a health port answered though CUBBY_HEALTH_PORT is unset")

    assert await running(socket_settings, probe) == 0

"""``cubby slack`` end to end: ``run()`` picks its mode from the settings, connects over Socket Mode (to
a fake websocket) or serves HTTP, and stops cleanly with every started piece of work finished."""

import asyncio
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from pydantic import SecretStr

from bots.slack.app import choose_mode
from bots.slack.runner import run
from core import ConfigError, CubbyError, Settings, UserKey, open_hub
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import (
    SIGNING_SECRET,
    command_payload,
    event_payload,
    signature_headers,
    text_of,
)

from .conftest import ALICE

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def running(settings: Settings, body: Callable[[], Awaitable[None]]) -> int:
    """Run the bot in the background while ``body`` talks to it; then stop it and return its exit code."""
    stop = asyncio.Event()
    bot = asyncio.create_task(run(settings, stop=stop, host="127.0.0.1"))
    try:
        await body()
    finally:
        stop.set()
    return await asyncio.wait_for(bot, 30)


async def stored_texts(settings: Settings, key: UserKey) -> list[str]:
    async with open_hub(settings=settings) as hub:
        return [record.text for record in await hub.scoped(key).get_all()]


async def test_socket_mode_handles_commands_and_events_and_drops_a_retried_event(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    socket_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_app_token": SecretStr("xapp-1-A0CUBBY-1-secret"),
            "slack_api_url": fake_slack.api_url,
        }
    )
    response_url = fake_slack.response_url()

    async def conversation() -> None:
        await fake_slack.wait_for_socket()
        command = command_payload(ALICE, "/remember", "I am vegetarian", response_url)
        await fake_slack.push({"envelope_id": "env-1", "type": "slash_commands", "payload": command})
        await fake_slack.wait_for(lambda c: c.method == "socket_ack" and c.params["envelope_id"] == "env-1")
        reply = await fake_slack.wait_for(lambda c: c.method == "response_url")
        assert reply.params["response_type"] == "ephemeral" and "I am vegetarian" in text_of(reply.params)

        dm = {"type": "message", "channel_type": "im", "channel": ALICE.dm_channel, "user": ALICE.user}
        dm |= {"text": "what food do I like?", "ts": "7.7"}
        body = event_payload(ALICE, dm, event_id="Ev0SOCKET")
        for attempt in range(3):  # the first delivery and two retries of the same event
            envelope = {"envelope_id": f"env-ev-{attempt}", "type": "events_api", "payload": body}
            await fake_slack.push(
                envelope | {"retry_attempt": attempt, "retry_reason": "timeout" if attempt else ""}
            )
            await fake_slack.wait_for(
                lambda c, a=attempt: c.method == "socket_ack" and c.params["envelope_id"] == f"env-ev-{a}"
            )

    assert await running(socket_settings, conversation) == 0

    [answer] = fake_slack.calls_to("chat.postMessage")  # run() waited for all work before returning
    assert answer.params["channel"] == ALICE.dm_channel and "I am vegetarian" in answer.params["text"]
    assert await stored_texts(settings, UserKey.slack(ALICE.team, ALICE.user)) == ["I am vegetarian"]


async def test_http_mode_serves_signed_requests_on_the_configured_port(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    port = free_port()
    http_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake_slack.api_url,
            "port": port,
        }
    )
    response_url = fake_slack.response_url()

    async def conversation() -> None:
        body = urlencode(command_payload(ALICE, "/remember", "I like jazz", response_url))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession() as session:
            for _ in range(200):  # the server starts in the background: retry until it listens
                try:
                    async with session.post(
                        f"http://127.0.0.1:{port}/slack/events",
                        data=body,
                        headers=headers | signature_headers(body),
                    ) as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
        reply = await fake_slack.wait_for(lambda c: c.method == "response_url")
        assert "I like jazz" in text_of(reply.params)

    assert await running(http_settings, conversation) == 0
    assert await stored_texts(settings, UserKey.slack(ALICE.team, ALICE.user)) == ["I like jazz"]


async def test_a_bot_token_slack_rejects_stops_the_start_with_a_clear_message(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    rejected = settings.model_copy(
        update={
            "slack_bot_token": SecretStr("xoxb-not-a-real-token"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake_slack.api_url,
        }
    )
    with pytest.raises(ConfigError, match=r"Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)"):
        await run(rejected, stop=asyncio.Event())


@pytest.mark.parametrize(
    ("configured", "outcome"),
    [
        ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, "socket"),
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, "http"),
        ({"slack_client_id": "1.2", "slack_client_secret": "c", "slack_signing_secret": "s"}, "oauth"),
        (
            {
                "slack_bot_token": "xoxb-1",
                "slack_client_id": "1.2",
                "slack_client_secret": "c",
                "slack_signing_secret": "s",
            },
            "oauth",
        ),
        ({}, "set SLACK_BOT_TOKEN and SLACK_APP_TOKEN"),
        ({"slack_app_token": "xapp-1"}, "also needs SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xoxb-1"}, "set SLACK_BOT_TOKEN and SLACK_APP_TOKEN"),
        ({"slack_signing_secret": "s"}, "HTTP mode needs SLACK_BOT_TOKEN"),
        ({"slack_client_id": "1.2", "slack_signing_secret": "s"}, "set both SLACK_CLIENT_ID"),
        (
            {
                "slack_bot_token": "xoxb-1",
                "slack_app_token": "xapp-1",
                "slack_client_id": "1.2",
                "slack_client_secret": "c",
            },
            "unset them for Socket Mode",
        ),
    ],
)
def test_the_mode_follows_from_the_settings_or_a_clear_error(settings: Settings, configured, outcome) -> None:
    secrets = {"slack_client_id"}
    update = {name: value if name in secrets else SecretStr(value) for name, value in configured.items()}
    configured_settings = settings.model_copy(update=update)
    if outcome in ("socket", "http", "oauth"):
        assert choose_mode(configured_settings) == outcome
    else:
        with pytest.raises(ConfigError, match=outcome):
            choose_mode(configured_settings)


async def test_an_unreachable_slack_api_stops_the_start_with_a_clear_message(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
        }
    )
    with pytest.raises(CubbyError, match="could not reach the Slack API"):
        await run(unreachable, stop=asyncio.Event())


async def test_cubby_slack_runs_from_the_command_line_and_stops_cleanly_on_sigterm(
    tmp_path, fake_slack: FakeSlack
) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CUBBY_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": f"xoxb-{ALICE.team}",
        "SLACK_APP_TOKEN": "xapp-1-A0CUBBY-1-secret",
        "SLACK_API_URL": fake_slack.api_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", "slack", env=environment, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake_slack.wait_for_socket(timeout=60)
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, errors.decode()
    assert "Cubby has left Slack" in errors.decode()

"""The Slack paths the fuzzing driver does not take, for the log guarantee: requests Cubby must reject
(unsigned, signed with the wrong secret, signed too long ago, from a workspace that never installed
it), Cubby installed over OAuth, and ``cubby slack`` in Socket Mode - each app built by Cubby's own
code (``build_bot``, ``start_http``, ``runner.run``) against the test suite's fake Slack, with canary
memories throughout and Slack answering 4xx/5xx at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation

from bench.assurance.fuzz import FuzzInputs
from bots.slack.app import BOT_SCOPES, build_bot, installation_store
from bots.slack.runner import run, start_http
from core import Agent, Settings, open_hub, open_shared_state
from tests.loopback.slack_api import APP_ID, BOT_ID, BOT_USER, FakeSlack
from tests.loopback.slack_harness import (
    SIGNING_SECRET,
    Person,
    SlackHarness,
    command_payload,
    event_payload,
    signature_headers,
)

ALICE = Person("U0LOGS", "T0LOGS")
STRANGER = Person("U0STRANGER", "T0NOWHERE")  # a workspace that never installed Cubby
FORM = "application/x-www-form-urlencoded"


async def _install(settings: Settings, person: Person) -> None:
    shared = open_shared_state(settings)
    try:
        await installation_store(settings, shared).async_save(
            Installation(
                app_id=APP_ID,
                team_id=person.team,
                bot_token=f"xoxb-{person.team}",
                bot_id=BOT_ID,
                bot_user_id=BOT_USER,
                bot_scopes=list(BOT_SCOPES),
                user_id="UINSTALLER",
            )
        )
    finally:
        await shared.close()


async def _rejected(slack: SlackHarness, inputs: FuzzInputs) -> int:
    """Badly signed commands carrying a canary; the number Cubby answered with 401."""
    body = urlencode(command_payload(ALICE, "/remember", inputs.sentence(), slack.fake.response_url()))
    refused = 0
    for headers in (
        {},
        signature_headers(body, secret="not-the-signing-secret"),
        signature_headers(body, timestamp=1_000_000_000),
    ):
        status, _ = await slack.post(body, content_type=FORM, headers=headers, signed=False)
        refused += status == 401
    return refused


async def _session(slack: SlackHarness, inputs: FuzzInputs, count: int) -> None:
    for _ in range(count):
        await slack.command(ALICE, "/remember", inputs.sentence())
        await slack.command(ALICE, "/recall", inputs.sentence())
        await slack.dm(ALICE, inputs.sentence())
    slack.fake.fail("chat.postMessage", "internal_error", status=500)
    slack.fake.fail("response_url", "expired_url", status=404)
    await slack.dm(ALICE, inputs.sentence())
    await slack.command(ALICE, "/recall", inputs.sentence())
    await slack.settle()


async def _over_http(settings: Settings, inputs: FuzzInputs, count: int, *, oauth: bool) -> int:
    fake = FakeSlack()
    await fake.start()
    update: dict[str, object] = {
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": fake.api_url,
    }
    if oauth:
        update |= {"slack_client_id": "111.222", "slack_client_secret": SecretStr("client-secret")}
    else:
        update |= {"slack_bot_token": SecretStr(f"xoxb-{ALICE.team}")}
    settings = settings.model_copy(update=update)
    if oauth:
        await _install(settings, ALICE)
    try:
        async with open_hub(settings=settings) as hub, aiohttp.ClientSession() as session:
            agent = Agent(settings)
            bot = build_bot(hub, agent, settings)
            runner = await start_http(bot.app, host="127.0.0.1", port=0)
            slack = SlackHarness(fake, bot, f"http://127.0.0.1:{runner.addresses[0][1]}", session)
            try:
                refused = await _rejected(slack, inputs)
                if oauth:
                    stranger = command_payload(STRANGER, "/remember", inputs.sentence(), fake.response_url())
                    await slack.post_form(stranger)
                await _session(slack, inputs, count)
            finally:
                await runner.cleanup()
                await agent.close()
                await bot.shared.close()
    finally:
        await fake.stop()
    return refused


async def _over_socket_mode(settings: Settings, inputs: FuzzInputs, count: int) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_app_token": SecretStr("xapp-1-A0CUBBY-1-secret"),
            "slack_api_url": fake.api_url,
        }
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(settings, stop=stop, host="127.0.0.1"))
    try:
        await fake.wait_for_socket(timeout=60)
        for number in range(count + 1):
            if number == count:
                fake.fail("chat.postMessage", "internal_error", status=500)
            url = fake.response_url()
            envelope = f"env-{number}"
            await fake.push(
                {
                    "envelope_id": envelope,
                    "type": "slash_commands",
                    "payload": command_payload(ALICE, "/remember", inputs.sentence(), url),
                }
            )
            await fake.wait_for(lambda c, url=url: c.method == "response_url" and url.endswith(c.path))
            event = {"type": "message", "channel_type": "im", "channel": ALICE.dm_channel, "user": ALICE.user}
            event |= {"text": inputs.sentence(), "ts": f"{number + 1}.5"}
            mark = len(fake.calls)
            await fake.push(
                {
                    "envelope_id": f"{envelope}-dm",
                    "type": "events_api",
                    "payload": event_payload(ALICE, event),
                }
            )
            await fake.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
        await fake.stop()


async def exercise_slack_modes(settings: Settings, data_dir: Path, seed: int, count: int) -> dict[str, int]:
    """Every Slack mode and rejection path once; how many badly signed requests each HTTP mode refused."""
    inputs = FuzzInputs(seed, limit=settings.max_memory_chars)
    refused = {
        "http": await _over_http(
            settings.model_copy(update={"data_dir": data_dir / "http"}), inputs, count, oauth=False
        ),
        "oauth": await _over_http(
            settings.model_copy(update={"data_dir": data_dir / "oauth"}), inputs, count, oauth=True
        ),
    }
    await _over_socket_mode(settings.model_copy(update={"data_dir": data_dir / "socket"}), inputs, count)
    return refused

"""No log line holds memory text, whatever the log level, in every way Cubby runs on Slack: one
workspace over HTTP, many over OAuth, Socket Mode. Each app is built by Cubby's own code after the root
logger is at DEBUG (or INFO), then driven through a whole session with a canary in every memory and
question - including requests with a wrong signature, Slack answering 4xx/5xx and the LLM failing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from bots.slack import blocks
from bots.slack.runner import run
from core import Settings, open_hub
from tests.conftest import lines_with
from tests.loopback.openai_server import FakeOpenAI, extracted, failure
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import (
    Person,
    SlackHarness,
    channel_message,
    command_payload,
    event_payload,
    signature_headers,
)

from .conftest import ALICE, install, serving

CANARY = f"canary-{uuid.uuid4().hex[:12]}"
NOT_INSTALLED = Person("U0STRANGER", "T0NOWHERE")


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


def with_llm(settings: Settings, fake_openai: FakeOpenAI) -> Settings:
    return settings.model_copy(
        update={
            "openai_api_key": SecretStr("sk-cubby-test"),
            "openai_base_url": fake_openai.url,
            "llm_timeout_seconds": 3.0,
            "llm_max_retries": 1,
        }
    )


def carried_by_slack(fake: FakeSlack) -> int:
    return sum(CANARY.encode() in repr(call.params).encode() + call.raw for call in fake.calls)


def rejections(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if "Slack signature did not verify" in r.getMessage()]


async def badly_signed(slack: SlackHarness, person: Person) -> list[int]:
    """A command with a canary sent unsigned, signed with the wrong secret, and signed too long ago."""
    body = urlencode(command_payload(person, "/remember", f"my PIN is {CANARY}", slack.fake.response_url()))
    form = "application/x-www-form-urlencoded"
    statuses = []
    for headers in (
        {},
        signature_headers(body, secret="not-the-signing-secret"),
        signature_headers(body, timestamp=1_000_000_000),
    ):
        status, _ = await slack.post(body, content_type=form, headers=headers, signed=False)
        statuses.append(status)
    return statuses


async def a_whole_session(slack: SlackHarness, person: Person, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("extraction", extracted(f"the PIN is {CANARY}"), failure(500), failure(500))
    await slack.command(person, "/remember", f"my PIN is {CANARY}")
    await slack.command(person, "/remember", f"{CANARY} " + "x" * 3000)  # refused as too long
    await slack.command(person, "/recall", CANARY)
    question = await slack.command(person, "/forget", "PIN")
    await slack.dm(person, f"what is my PIN? {CANARY}")
    await slack.mention(person, f"remind me of {CANARY}", channel="C0PUBLIC")
    await slack.command(person, "/cubby", "export")
    view = await slack.open_home(person)
    await slack.click_home(person, view, blocks.HOME_EXPORT)
    saved = await slack.shortcut(person, channel_message(person, f"the gate code is {CANARY}"))
    await slack.click(person, saved, blocks.UNDO_REMEMBER)
    await slack.shortcut(person, channel_message(person, f"{CANARY} " + "x" * 3000))  # refused as too long

    fake_openai.script("chat", failure(500), failure(500), failure(400))  # the LLM fails, then refuses
    await slack.dm(person, f"and my locker? {CANARY}")
    await slack.dm(person, f"and my bike lock? {CANARY}")

    slack.fake.fail("chat.postMessage", "internal_error", status=500)
    slack.fake.fail("chat.postEphemeral", "channel_not_found", status=404)
    slack.fake.fail("views.publish", "internal_error", status=503)
    await slack.dm(person, f"still there? {CANARY}")
    await slack.mention(person, f"still {CANARY}", channel="C0PUBLIC")
    await slack.open_home(person)
    slack.fake.fail("response_url", "expired_url", status=404)
    await slack.command(person, "/recall", CANARY)
    await slack.click(person, question, blocks.FORGET)
    await slack.settle()


async def test_one_workspace_over_http_logs_no_memory_text(
    root_records: list[logging.LogRecord],
    single_workspace_settings: Settings,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
) -> None:
    settings = with_llm(single_workspace_settings, fake_openai)
    async with open_hub(settings=settings) as hub, serving(hub, settings, fake_slack) as slack:
        await a_whole_session(slack, ALICE, fake_openai)
        assert await badly_signed(slack, ALICE) == [401, 401, 401]

    assert carried_by_slack(fake_slack) > 5  # the session did show the memory, to its owner
    assert fake_openai.requests("chat") and fake_openai.requests("extraction")
    assert lines_with(root_records, CANARY) == []
    assert len(rejections(root_records)) == 3  # the fact is logged, at INFO, without the body
    assert {r.levelno for r in rejections(root_records)} == {logging.INFO}


async def test_many_workspaces_over_oauth_log_no_memory_text(
    root_records: list[logging.LogRecord],
    oauth_settings: Settings,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
) -> None:
    await install(oauth_settings, ALICE)
    settings = with_llm(oauth_settings, fake_openai)
    async with open_hub(settings=settings) as hub, serving(hub, settings, fake_slack) as slack:
        await a_whole_session(slack, ALICE, fake_openai)
        assert await badly_signed(slack, ALICE) == [401, 401, 401]
        # A correctly signed command from a workspace that never installed Cubby.
        status, _ = await slack.post_form(
            command_payload(NOT_INSTALLED, "/remember", f"my PIN is {CANARY}", fake_slack.response_url())
        )
        assert status in (200, 401)  # Bolt answers "not installed" itself
        async with slack.session.get(f"{slack.url}/slack/oauth_redirect?code=T0NEW&state=forged") as page:
            assert page.status >= 400

    assert carried_by_slack(fake_slack) > 5
    assert lines_with(root_records, CANARY) == []
    assert len(rejections(root_records)) == 3


@pytest.fixture
async def socket_mode(
    settings: Settings, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """``cubby slack`` in Socket Mode, running in the background; the fixture's value stops it and
    returns its exit code once it has finished all the work it acknowledged."""
    socket_settings = with_llm(settings, fake_openai).model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_app_token": SecretStr("xapp-1-A0CUBBY-1-secret"),
            "slack_api_url": fake_slack.api_url,
        }
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(socket_settings, stop=stop, host="127.0.0.1"))
    connected = asyncio.create_task(fake_slack.wait_for_socket())
    await asyncio.wait({running, connected}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    assert connected.done() and not running.done()

    async def stopped() -> int:
        stop.set()
        return await asyncio.wait_for(running, 30)

    yield stopped
    stop.set()
    await asyncio.wait_for(running, 30)


async def test_socket_mode_logs_no_memory_text(
    root_records: list[logging.LogRecord],
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    socket_mode: Callable[[], Awaitable[int]],
) -> None:
    async def deliver(envelope: str, kind: str, payload: dict) -> None:
        await fake_slack.push({"envelope_id": envelope, "type": kind, "payload": payload})
        await fake_slack.wait_for(lambda c: c.method == "socket_ack" and c.params["envelope_id"] == envelope)

    async def command(envelope_id: str, name: str, text: str) -> None:
        url = fake_slack.response_url()
        await deliver(envelope_id, "slash_commands", command_payload(ALICE, name, text, url))
        await fake_slack.wait_for(lambda c: c.method == "response_url" and url.endswith(c.path))

    async def dm(envelope_id: str, text: str) -> None:
        event = {"type": "message", "channel_type": "im", "channel": ALICE.dm_channel, "user": ALICE.user}
        event |= {"text": text, "ts": f"{len(fake_slack.calls)}.1"}
        mark = len(fake_slack.calls)
        await deliver(envelope_id, "events_api", event_payload(ALICE, event))
        await fake_slack.wait_for(lambda c: c.method == "chat.postMessage", after=mark)

    await command("env-1", "/remember", f"my PIN is {CANARY}")
    await command("env-2", "/recall", CANARY)
    await dm("env-3", f"what is my PIN? {CANARY}")
    fake_openai.script("chat", failure(500), failure(500))
    await dm("env-4", f"and now? {CANARY}")
    fake_slack.fail("chat.postMessage", "internal_error", status=500)
    fake_slack.fail("response_url", "expired_url", status=404)
    await dm("env-5", f"still there? {CANARY}")
    await command("env-6", "/recall", CANARY)
    assert await socket_mode() == 0

    assert carried_by_slack(fake_slack) > 3
    assert lines_with(root_records, CANARY) == []

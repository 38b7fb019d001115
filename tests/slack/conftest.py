"""Fixtures for the Slack adapter: a fake Slack on 127.0.0.1 and the real Bolt app - real slack-bolt,
real HTTP, real signatures, a real hub on a temp data dir - served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Bot, Installation

from bots.slack.app import BOT_SCOPES, build_bot, installation_store
from bots.slack.runner import start_http
from core import Agent, Hub, Settings, open_shared_state
from tests.loopback.slack_api import APP_ID, BOT_ID, BOT_USER, FakeSlack
from tests.loopback.slack_harness import SIGNING_SECRET, Person, SlackHarness

ALICE = Person("U0ALICE", "T0NORTH")
BOB = Person("U0BOB", "T0NORTH")
ALICE_ELSEWHERE = Person("U0ALICE", "T0SOUTH")  # the same user id in another workspace
GRID_CAROL = Person("U0CAROL", "T0GRIDWS", enterprise="E0GRID")
WORKSPACES = (ALICE, ALICE_ELSEWHERE, GRID_CAROL)


@pytest.fixture(autouse=True)
def _no_outside_slack_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_API_URL", "SLACK_REDIRECT_URI", "PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def single_workspace_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(f"xoxb-{ALICE.team}"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake_slack.api_url,
        }
    )


@pytest.fixture
def oauth_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_client_id": "111.222",
            "slack_client_secret": SecretStr("client-secret"),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake_slack.api_url,
        }
    )


@asynccontextmanager
async def serving(hub: Hub, settings: Settings, fake: FakeSlack) -> AsyncIterator[SlackHarness]:
    bot = build_bot(hub, Agent(settings), settings)
    runner = await start_http(bot.app, host="127.0.0.1", port=0)
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        harness = SlackHarness(fake, bot, f"http://127.0.0.1:{port}", session)
        try:
            yield harness
        finally:
            await harness.settle()
            await runner.cleanup()
            await bot.shared.close()


@pytest.fixture
async def slack(
    hub: Hub, single_workspace_settings: Settings, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    """Cubby installed in one workspace (bot token + signing secret), over HTTP."""
    async with serving(hub, single_workspace_settings, fake_slack) as harness:
        yield harness


def installation_of(person: Person) -> Installation:
    return Installation(
        app_id=APP_ID,
        enterprise_id=person.enterprise,
        team_id=person.team,
        bot_token=f"xoxb-{person.team}",
        bot_id=BOT_ID,
        bot_user_id=BOT_USER,
        bot_scopes=list(BOT_SCOPES),
        user_id="UINSTALLER",
    )


async def install(settings: Settings, person: Person) -> None:
    """Store an OAuth installation for ``person``'s workspace, as the install flow (of any worker)
    would."""
    shared = open_shared_state(settings)
    try:
        await installation_store(settings, shared).async_save(installation_of(person))
    finally:
        await shared.close()


async def stored_bot(settings: Settings, person: Person) -> Bot | None:
    """The installation of ``person``'s workspace, as any worker reads it from the shared state."""
    shared = open_shared_state(settings)
    try:
        store = installation_store(settings, shared)
        return await store.async_find_bot(enterprise_id=person.enterprise, team_id=person.team)
    finally:
        await shared.close()


@pytest.fixture
async def slack_many(
    hub: Hub, oauth_settings: Settings, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    """Cubby distributed with OAuth and installed in three workspaces (one on Enterprise Grid)."""
    for person in WORKSPACES:
        await install(oauth_settings, person)
    async with serving(hub, oauth_settings, fake_slack) as harness:
        yield harness

"""Several Cubby Slack HTTP workers on one store, as behind a load balancer: each has its own memory
hub, its own connection to the shared state and its own Bolt app served on its own port; all of them
share the data dir (and, with ``CUBBY_BACKEND=postgres``, the database) and talk to one fake Slack."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from html import unescape
from urllib.parse import parse_qs, urlparse

import aiohttp

from bots.slack.app import build_bot
from bots.slack.runner import start_http
from core import Agent, Settings, open_hub
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import Person, SlackHarness


@asynccontextmanager
async def slack_workers(
    settings: Settings, fake: FakeSlack, count: int = 3
) -> AsyncIterator[list[SlackHarness]]:
    """``count`` workers, started in turn; on exit each finishes its work and stops."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        workers = []
        for _ in range(count):
            hub = await stack.enter_async_context(open_hub(settings=settings))
            bot = build_bot(hub, Agent(settings), settings)
            stack.push_async_callback(bot.shared.close)
            runner = await start_http(bot.app, host="127.0.0.1", port=0)
            stack.push_async_callback(runner.cleanup)
            harness = SlackHarness(fake, bot, f"http://127.0.0.1:{runner.addresses[0][1]}", session)
            stack.push_async_callback(harness.settle)
            workers.append(harness)
        yield workers


async def settle_all(workers: list[SlackHarness]) -> None:
    """Wait until no worker has any work running (so nothing more will be sent to Slack)."""
    for worker in workers:
        await worker.settle()


def a_message_to_cubby(person: Person, text: str) -> dict:
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel_type": "im", "channel": person.dm_channel, "user": person.user}
    return event | {"text": text, "ts": ts, "event_ts": ts}


async def install_across(start: SlackHarness, finish: SlackHarness, team: str) -> int:
    """A workspace admin opens ``/slack/install`` on ``start``; Slack's redirect back lands on
    ``finish``. Returns the status of the redirect's answer."""
    async with start.session.get(f"{start.url}/slack/install") as page:
        assert page.status == 200
        page_html = await page.text()
        state = page.cookies["slack-app-oauth-state"].value  # a Secure cookie: forwarded by hand
    authorize_link = unescape(page_html.split('<a href="', 1)[1].split('"', 1)[0])
    assert parse_qs(urlparse(authorize_link).query)["state"] == [state]
    callback = f"{finish.url}/slack/oauth_redirect?code={team}&state={state}"
    async with finish.session.get(callback, headers={"Cookie": f"slack-app-oauth-state={state}"}) as done:
        return done.status

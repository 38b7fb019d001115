"""Three Slack HTTP workers on one store, as behind a load balancer that sends each request wherever
it likes: every event is answered once however its deliveries are spread, and a workspace installed
through one worker is served by all of them. Runs on the embedded store and on PostgreSQL."""

import asyncio

import pytest

from core import Settings
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import Person, event_payload, text_of
from tests.loopback.slack_workers import a_message_to_cubby, install_across, settle_all, slack_workers

from .conftest import ALICE, BOB, stored_bot

pytestmark = pytest.mark.every_backend
NEWCOMER = Person("U0NEWBIE", "T0NEW")


def answers_to(fake: FakeSlack, event: dict) -> list:
    return [
        call
        for call in fake.calls_to("chat.postMessage")
        if call.params.get("thread_ts") == event["ts"] and call.params.get("channel") == event["channel"]
    ]


async def test_each_retry_delivered_to_another_worker_is_answered_once(
    single_workspace_settings: Settings, fake_slack: FakeSlack
) -> None:
    async with slack_workers(single_workspace_settings, fake_slack) as workers:
        event = a_message_to_cubby(ALICE, "hello")
        for attempt, worker in enumerate(workers):  # the delivery, then Slack's retries 1 and 2
            status = await worker.event(ALICE, event, event_id="Ev0RETRIED", retry=attempt or None)
            assert status == 200  # a repeat is acknowledged, or Slack would keep retrying
        await settle_all(workers)

    assert len(answers_to(fake_slack, event)) == 1


async def test_deliveries_racing_on_three_workers_are_answered_once_each(
    single_workspace_settings: Settings, fake_slack: FakeSlack
) -> None:
    events = [a_message_to_cubby(person, f"hello {n}") for n in range(4) for person in (ALICE, BOB)]
    async with slack_workers(single_workspace_settings, fake_slack) as workers:

        async def deliver_everywhere(number: int, event: dict) -> list[tuple[int, str]]:
            body = event_payload(
                ALICE if event["user"] == ALICE.user else BOB, event, event_id=f"Ev0RACE{number}"
            )
            return await asyncio.gather(*(worker.post_json(body) for worker in workers))

        results = await asyncio.gather(*(deliver_everywhere(n, e) for n, e in enumerate(events)))
        await settle_all(workers)

    assert all(status == 200 for statuses in results for status, _ in statuses)
    assert [len(answers_to(fake_slack, event)) for event in events] == [1] * len(events)


async def test_a_workspace_installed_through_one_worker_is_served_by_every_worker(
    oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    async with slack_workers(oauth_settings, fake_slack) as [first, second, third]:
        assert await install_across(first, first, NEWCOMER.team) == 200

        for worker in (second, third, first):
            reply = await worker.command(NEWCOMER, "/remember", f"served by {worker.url}")
            assert "served by" in text_of(reply)
            answer = await worker.dm(NEWCOMER, "hello")
            assert answer.token == f"xoxb-{NEWCOMER.team}"

    bot = await stored_bot(oauth_settings, NEWCOMER)
    assert bot is not None and bot.bot_token == f"xoxb-{NEWCOMER.team}"


async def test_an_install_started_on_one_worker_can_finish_on_another_but_only_once(
    oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    async with slack_workers(oauth_settings, fake_slack) as [first, second, third]:
        async with first.session.get(f"{first.url}/slack/install") as page:
            state = page.cookies["slack-app-oauth-state"].value
        callback = f"/slack/oauth_redirect?code={NEWCOMER.team}&state={state}"
        cookie = {"Cookie": f"slack-app-oauth-state={state}"}

        async with second.session.get(second.url + callback, headers=cookie) as done:
            assert done.status == 200
        async with third.session.get(third.url + callback, headers=cookie) as replayed:
            assert replayed.status >= 400  # the state was used up on the second worker

    assert len(fake_slack.calls_to("oauth.v2.access")) == 1


async def test_an_uninstall_through_one_worker_stops_every_worker_serving_the_workspace(
    oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    async with slack_workers(oauth_settings, fake_slack) as [first, second, third]:
        assert await install_across(first, second, ALICE.team) == 200
        assert await third.event(ALICE, {"type": "app_uninstalled"}) == 200
        await settle_all([first, second, third])

        for worker in (first, second):
            reply = await worker.command(ALICE, "/remember", "I am vegetarian")
            assert "reinstall this app" in text_of(reply)  # Bolt finds no installation

    assert await stored_bot(oauth_settings, ALICE) is None

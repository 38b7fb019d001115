"""Only Slack can talk to Cubby (signatures), and one person's memories never reach another - not even
the same user id in another workspace, on any path."""

import json
import time
from urllib.parse import urlencode

import pytest

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_harness import (
    Person,
    SlackHarness,
    block_actions_payload,
    command_payload,
    event_payload,
    signature_headers,
    text_of,
)

from .conftest import ALICE, ALICE_ELSEWHERE, GRID_CAROL, install, stored_bot


def memory_of(hub: Hub, person: Person):
    return hub.scoped(UserKey.slack(person.enterprise or person.team, person.user))


def forged(body: str) -> dict[str, str]:
    return signature_headers(body, secret="not-the-signing-secret")


def stale(body: str) -> dict[str, str]:
    return signature_headers(body, timestamp=int(time.time()) - 6 * 60)


def unsigned(body: str) -> dict[str, str]:
    return {}


def tampered(body: str) -> dict[str, str]:
    return signature_headers(body + "&extra=1")  # a valid signature, but of some other body


@pytest.mark.parametrize("headers_for", [forged, stale, unsigned, tampered])
async def test_badly_signed_requests_get_401_and_change_nothing(
    slack: SlackHarness, hub: Hub, headers_for
) -> None:
    [kept] = await memory_of(hub, ALICE).add("I always want a window seat")

    requests = [
        (
            urlencode(command_payload(ALICE, "/remember", "I am vegetarian", slack.fake.response_url())),
            "form",
        ),
        (urlencode(command_payload(ALICE, "/forget", "", slack.fake.response_url())), "form"),
        (json.dumps(event_payload(ALICE, {"type": "app_uninstalled"})), "json"),
        (
            json.dumps(event_payload(ALICE, {"type": "app_home_opened", "user": ALICE.user, "tab": "home"})),
            "json",
        ),
        (
            urlencode(
                {
                    "payload": json.dumps(
                        block_actions_payload(
                            ALICE,
                            {"type": "button", "action_id": blocks.FORGET, "value": blocks.EVERYTHING},
                            response_url=slack.fake.response_url(),
                        )
                    )
                }
            ),
            "form",
        ),
    ]
    for body, kind in requests:
        content_type = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
        status, _ = await slack.post(body, content_type=content_type, headers=headers_for(body), signed=False)
        assert status == 401

    await slack.settle()
    assert slack.fake.calls == []
    assert [r.id for r in await memory_of(hub, ALICE).get_all()] == [kept.id]


async def test_the_same_user_id_in_two_workspaces_are_two_people_on_every_path(
    slack_many: SlackHarness, hub: Hub
) -> None:
    slack = slack_many
    await slack.command(ALICE, "/remember", "my locker code is north 1234")
    await slack.command(ALICE_ELSEWHERE, "/remember", "my locker code is south 9876")

    seen_elsewhere = [
        text_of(await slack.command(ALICE_ELSEWHERE, "/recall", "locker code")),
        text_of(await slack.command(ALICE_ELSEWHERE, "/recall")),
        text_of(await slack.command(ALICE_ELSEWHERE, "/forget", "locker code")),
        (await slack.dm(ALICE_ELSEWHERE, "what is my locker code?")).params["text"],
        (await slack.mention(ALICE_ELSEWHERE, "what is my locker code?")).params["text"],
        text_of(await slack.open_home(ALICE_ELSEWHERE)),
    ]
    await slack.command(ALICE_ELSEWHERE, "/cubby", "export")
    [upload] = slack.fake.calls_to("upload")
    seen_elsewhere.append(upload.raw.decode())

    for seen in seen_elsewhere:
        assert "north 1234" not in seen
    assert "south 9876" in seen_elsewhere[0] and "south 9876" in seen_elsewhere[-1]

    # Forgetting everything in one workspace leaves the other untouched.
    question = await slack.command(ALICE_ELSEWHERE, "/forget")
    await slack.click(ALICE_ELSEWHERE, question, blocks.FORGET, blocks.EVERYTHING)
    assert await memory_of(hub, ALICE_ELSEWHERE).count() == 0
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["my locker code is north 1234"]


async def test_each_workspace_is_answered_with_its_own_installations_token(slack_many: SlackHarness) -> None:
    north = await slack_many.dm(ALICE, "hello")
    south = await slack_many.dm(ALICE_ELSEWHERE, "hello")
    assert north.token == f"xoxb-{ALICE.team}" and south.token == f"xoxb-{ALICE_ELSEWHERE.team}"


async def test_on_enterprise_grid_the_key_is_the_organisation_and_the_user(
    slack_many: SlackHarness, hub: Hub
) -> None:
    await slack_many.command(GRID_CAROL, "/remember", "I am vegetarian")

    carol_in_the_org = hub.scoped(UserKey.slack(GRID_CAROL.enterprise, GRID_CAROL.user))
    assert [r.text for r in await carol_in_the_org.get_all()] == ["I am vegetarian"]
    assert await hub.scoped(UserKey.slack(GRID_CAROL.team, GRID_CAROL.user)).count() == 0
    view = await slack_many.open_home(GRID_CAROL)
    assert "I am vegetarian" in text_of(view)


async def test_a_workspace_without_an_installation_is_refused_and_nothing_is_stored(
    slack_many: SlackHarness, hub: Hub
) -> None:
    stranger = Person("U0ALICE", "T0UNKNOWN")

    reply = await slack_many.command(stranger, "/remember", "I am vegetarian")

    assert "reinstall this app" in text_of(reply)  # Bolt's own answer, before any Cubby code runs
    await slack_many.settle()
    assert await memory_of(hub, stranger).count() == 0
    assert await memory_of(hub, ALICE).count() == 0


async def test_the_install_helper_stores_what_bolt_reads(oauth_settings) -> None:
    await install(oauth_settings, ALICE)
    bot = await stored_bot(oauth_settings, ALICE)
    assert bot is not None and bot.bot_token == f"xoxb-{ALICE.team}"

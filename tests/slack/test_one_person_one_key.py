"""Through the real Bolt app: one person has one key on every path - Grid buttons, Slack Connect
guests' mentions, a workspace that joined Grid - and every /forget leaves nothing of theirs under
any key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from bots.slack import blocks
from core import Hub, Settings, UserKey, open_hub
from tests.loopback import slack_shapes as shapes
from tests.loopback.openai_server import FakeOpenAI, answer, extracted
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import SlackHarness, button, text_of
from tests.loopback.slack_shapes import Installation, Person

from .conftest import serving

CAROL = Person("W0CAROL", "T0GRIDWS", enterprise="E0GRID")
WENDY = Person("W0ACTOR", "T0GUESTWS", enterprise="E0GUEST")  # a guest in the host's shared channel
HOST = Installation("T0HOSTWS", "E0HOST")


def key_of(person: Person) -> UserKey:
    return UserKey.slack(person.enterprise or person.team, person.user)


async def command(slack: SlackHarness, person: Person, name: str, text: str = "") -> dict[str, Any]:
    response_url = slack.fake.response_url()
    mark = len(slack.fake.calls)
    status, _ = await slack.post_form(shapes.command(person, name, text, response_url=response_url))
    assert status == 200
    call = await slack.fake.wait_for(
        lambda c: c.method == "response_url" and response_url.endswith(c.path), after=mark
    )
    return call.params


async def click(slack: SlackHarness, payload: dict[str, Any]) -> dict[str, Any]:
    response_url = slack.fake.response_url()
    payload["response_url"] = response_url
    mark = len(slack.fake.calls)
    status, _ = await slack.post_form({"payload": json.dumps(payload)})
    assert status == 200
    call = await slack.fake.wait_for(
        lambda c: c.method == "response_url" and response_url.endswith(c.path), after=mark
    )
    return call.params


async def everyone_holding(hub: Hub, user: str) -> list[UserKey]:
    """Every key with memories whose user id is ``user``, under any organisation."""
    return [key for key in await hub.users_in_workspace("slack:") if key.parts[1] == user]


async def test_a_grid_button_with_the_enterprise_only_inside_team_acts_on_the_persons_key(
    slack: SlackHarness, hub: Hub
) -> None:
    await command(slack, CAROL, "/remember", "I like jazz")
    question = await command(slack, CAROL, "/forget")
    forget_all = button(question, blocks.FORGET, blocks.EVERYTHING)

    done = await click(slack, shapes.block_actions(CAROL, action=forget_all, team_enterprise_only=True))

    assert "erased 1 memory" in text_of(done)
    assert await hub.scoped(key_of(CAROL)).count() == 0


async def test_a_workspace_that_joined_grid_keeps_its_memories_and_forget_then_erases_them(
    slack: SlackHarness, hub: Hub
) -> None:
    before_grid = UserKey.slack(CAROL.team, CAROL.user)
    await hub.scoped(before_grid).add("I like jazz")
    await hub.scoped(before_grid).add("my cat is called Miso")

    recalled = await command(slack, CAROL, "/recall")

    assert "I like jazz" in text_of(recalled) and "Miso" in text_of(recalled)
    assert await everyone_holding(hub, CAROL.user) == [key_of(CAROL)]

    question = await command(slack, CAROL, "/forget")
    done = await click(
        slack, shapes.block_actions(CAROL, action=button(question, blocks.FORGET, blocks.EVERYTHING))
    )

    assert "erased 2 memories" in text_of(done)
    assert await everyone_holding(hub, CAROL.user) == []


async def test_a_grid_person_whose_first_request_is_a_button_finds_their_pre_grid_memories(
    slack: SlackHarness, hub: Hub
) -> None:
    await hub.scoped(UserKey.slack(CAROL.team, CAROL.user)).add("I like jazz")
    page = {"type": "button", "action_id": blocks.RECALL_PAGE, "value": "1"}

    shown = await click(slack, shapes.block_actions(CAROL, action=page, team_enterprise_only=True))

    assert "I like jazz" in text_of(shown)


async def test_the_uninstall_of_a_grid_workspace_erases_its_pre_grid_memories_too(
    slack: SlackHarness, hub: Hub
) -> None:
    await hub.scoped(UserKey.slack(CAROL.team, CAROL.user)).add("I like jazz")
    await hub.scoped(key_of(CAROL)).add("I drink green tea")
    event = {"type": "app_uninstalled"}

    status, _ = await slack.post_json(shapes.event_callback(CAROL, event))
    assert status == 200
    await slack.settle()

    assert await everyone_holding(hub, CAROL.user) == []


@pytest.fixture
def fake_openai() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
async def llm_hub(single_workspace_settings: Settings, fake_openai: FakeOpenAI) -> AsyncIterator[Hub]:
    settings = single_workspace_settings.model_copy(
        update={"openai_api_key": SecretStr("sk-test"), "openai_base_url": fake_openai.url}
    )
    async with open_hub(settings=settings) as opened:
        yield opened


@pytest.fixture
async def slack_with_llm(llm_hub: Hub, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    async with serving(llm_hub, llm_hub.settings, fake_slack) as harness:
        yield harness
        await harness.bot.services.agent.drain()


async def test_a_slack_connect_guests_mention_facts_are_hers_and_her_forget_erases_them(
    slack_with_llm: SlackHarness, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    slack, hub = slack_with_llm, llm_hub
    fake_openai.script("chat", answer("Noted!"))
    fake_openai.script("extraction", extracted("Wendy is allergic to peanuts"))
    mention = shapes.event_callback(WENDY, shapes.mention_event(WENDY, "I'm allergic to peanuts"), HOST)

    status, _ = await slack.post_json(mention)
    assert status == 200 and mention["is_ext_shared_channel"] is True
    await slack.settle()
    await slack.bot.services.agent.drain()

    assert await everyone_holding(hub, WENDY.user) == [key_of(WENDY)]
    assert await hub.users_in_workspace(f"slack:{HOST.enterprise}:") == []
    assert "peanuts" in text_of(await command(slack, WENDY, "/recall"))

    question = await command(slack, WENDY, "/forget")
    await click(slack, shapes.block_actions(WENDY, action=button(question, blocks.FORGET, blocks.EVERYTHING)))

    assert await everyone_holding(hub, WENDY.user) == []


async def test_a_grid_move_that_cannot_complete_loses_nothing_and_forget_still_erases_everything(
    single_workspace_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = single_workspace_settings.model_copy(update={"max_memories_per_user": 2})
    before_grid = UserKey.slack(CAROL.team, CAROL.user)
    async with open_hub(settings=settings) as hub:
        await hub.scoped(before_grid).add("I like jazz")
        await hub.scoped(before_grid).add("I drink green tea")
        await hub.scoped(key_of(CAROL)).add("my cat is called Miso")  # both keys together: 3 > 2

        async with serving(hub, settings, fake_slack) as slack:
            recalled = await command(slack, CAROL, "/recall")
            assert "Miso" in text_of(recalled)
            assert await hub.scoped(before_grid).count() == 2  # not moved, not lost

            question = await command(slack, CAROL, "/forget")
            forget_all = button(question, blocks.FORGET, blocks.EVERYTHING)
            done = await click(slack, shapes.block_actions(CAROL, action=forget_all))

        assert "erased 3 memories" in text_of(done)
        assert await everyone_holding(hub, CAROL.user) == []

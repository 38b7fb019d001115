"""Uninstalling Cubby (or revoking its bot token) erases that workspace's memories and installation,
and nothing of any other workspace."""

from core import Hub, Settings, UserKey
from tests.conftest import files_containing
from tests.loopback.slack_api import BOT_USER
from tests.loopback.slack_harness import Person, SlackHarness

from .conftest import ALICE, ALICE_ELSEWHERE, BOB, GRID_CAROL, stored_bot


def memory_of(hub: Hub, person: Person):
    return hub.scoped(UserKey.slack(person.enterprise or person.team, person.user))


async def remember_for_everyone(hub: Hub) -> None:
    for person in (ALICE, BOB, ALICE_ELSEWHERE, GRID_CAROL):
        await memory_of(hub, person).add(f"secret of {person.user} at {person.team}")


async def is_installed(settings: Settings, person: Person) -> bool:
    return await stored_bot(settings, person) is not None


async def test_app_uninstalled_erases_the_workspaces_memories_and_installation_only(
    slack_many: SlackHarness, hub: Hub, oauth_settings: Settings
) -> None:
    await remember_for_everyone(hub)

    assert await slack_many.event(ALICE, {"type": "app_uninstalled"}) == 200
    await slack_many.settle()

    assert await memory_of(hub, ALICE).count() == 0 and await memory_of(hub, BOB).count() == 0
    assert files_containing(oauth_settings.data_dir, f"secret of {ALICE.user} at {ALICE.team}") == []
    assert not await is_installed(oauth_settings, ALICE)
    for untouched in (ALICE_ELSEWHERE, GRID_CAROL):
        assert await memory_of(hub, untouched).count() == 1
        assert await is_installed(oauth_settings, untouched)


async def test_revoking_the_bot_token_erases_like_an_uninstall(
    slack_many: SlackHarness, hub: Hub, oauth_settings: Settings
) -> None:
    await remember_for_everyone(hub)

    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER]}}
    assert await slack_many.event(GRID_CAROL, event) == 200
    await slack_many.settle()

    assert await memory_of(hub, GRID_CAROL).count() == 0
    assert not await is_installed(oauth_settings, GRID_CAROL)
    assert await memory_of(hub, ALICE).count() == 1 and await memory_of(hub, ALICE_ELSEWHERE).count() == 1


async def test_revoking_only_user_tokens_keeps_the_memories(
    slack_many: SlackHarness, hub: Hub, oauth_settings: Settings
) -> None:
    await remember_for_everyone(hub)

    event = {"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER"], "bot": []}}
    assert await slack_many.event(ALICE, event) == 200
    await slack_many.settle()

    assert await memory_of(hub, ALICE).count() == 1 and await memory_of(hub, BOB).count() == 1


async def test_a_single_workspace_bot_erases_its_workspace_when_uninstalled(
    slack: SlackHarness, hub: Hub
) -> None:
    await remember_for_everyone(hub)

    assert await slack.event(ALICE, {"type": "app_uninstalled"}) == 200
    await slack.settle()

    assert await memory_of(hub, ALICE).count() == 0 and await memory_of(hub, BOB).count() == 0
    assert await memory_of(hub, ALICE_ELSEWHERE).count() == 1

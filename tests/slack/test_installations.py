"""The Slack installation store over the shared state: installations an older Cubby kept in files are
moved in (and the files removed), records of one workspace are out of reach of any other's ids, and
what Bolt reads back is what the install flow saved."""

import sqlite3
from pathlib import Path

from slack_sdk.oauth.installation_store import FileInstallationStore

from bots.slack.app import installation_store
from core import Settings, open_shared_state
from tests.conftest import files_containing
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import Person

from .conftest import ALICE, ALICE_ELSEWHERE, GRID_CAROL, install, installation_of, serving, stored_bot


def legacy_dir(settings: Settings) -> Path:
    return settings.data_dir / "slack" / "installations"


def save_the_old_way(settings: Settings, person: Person, token: str | None = None) -> None:
    """What Cubby did before the shared state: slack_sdk's file store under the data dir."""
    old = FileInstallationStore(
        base_dir=str(legacy_dir(settings)), client_id=settings.slack_client_id, historical_data_enabled=False
    )
    installation = installation_of(person)
    installation.bot_token = token or installation.bot_token
    old.save(installation)


async def test_installations_kept_in_files_are_moved_into_the_shared_store_and_the_files_removed(
    hub, oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    for person in (ALICE, GRID_CAROL):
        save_the_old_way(oauth_settings, person)
    assert files_containing(oauth_settings.data_dir, f"xoxb-{ALICE.team}") != []

    async with serving(hub, oauth_settings, fake_slack) as slack:
        answer = await slack.dm(ALICE, "hello")
        assert answer.token == f"xoxb-{ALICE.team}"
        answer = await slack.dm(GRID_CAROL, "hello")
        assert answer.token == f"xoxb-{GRID_CAROL.team}"

    assert not legacy_dir(oauth_settings).joinpath(oauth_settings.slack_client_id or "").exists()
    for person in (ALICE, GRID_CAROL):
        assert files_containing(oauth_settings.data_dir, f"xoxb-{person.team}") == []
        assert await stored_bot(oauth_settings, person) is not None


async def test_an_old_file_never_overwrites_a_newer_installation(oauth_settings: Settings) -> None:
    await install(oauth_settings, ALICE)  # reinstalled through the new store: xoxb-T0NORTH
    save_the_old_way(oauth_settings, ALICE, token="xoxb-STALE")
    save_the_old_way(oauth_settings, ALICE_ELSEWHERE)

    bot = await stored_bot(oauth_settings, ALICE)

    assert bot is not None and bot.bot_token == f"xoxb-{ALICE.team}"
    other = await stored_bot(oauth_settings, ALICE_ELSEWHERE)
    assert other is not None and other.bot_token == f"xoxb-{ALICE_ELSEWHERE.team}"
    assert files_containing(oauth_settings.data_dir, "xoxb-STALE") == []


async def test_ids_that_look_like_paths_or_prefixes_reach_no_other_workspace(
    oauth_settings: Settings,
) -> None:
    await install(oauth_settings, ALICE)  # T0NORTH
    shared = open_shared_state(oauth_settings)
    store = installation_store(oauth_settings, shared)
    try:
        for team in ("T0NORTH/bot", "T0NORTH/", "T0", "T0NORTH%2F", "", "*"):
            assert await store.async_find_bot(enterprise_id=None, team_id=team) is None
            await store.async_delete_all(enterprise_id=None, team_id=team)
        await store.async_delete_all(enterprise_id="", team_id="T0NORTH/..")
        assert await store.async_find_bot(enterprise_id=None, team_id=ALICE.team) is not None
    finally:
        await shared.close()


async def test_the_installer_record_carries_the_current_bot_token(oauth_settings: Settings) -> None:
    shared = open_shared_state(oauth_settings)
    store = installation_store(oauth_settings, shared)
    try:
        await store.async_save(installation_of(ALICE))
        renewed = installation_of(ALICE)
        renewed.user_id, renewed.bot_token = "USOMEONEELSE", "xoxb-RENEWED"
        await store.async_save(renewed)

        first = await store.async_find_installation(
            enterprise_id=None, team_id=ALICE.team, user_id="UINSTALLER"
        )
        latest = await store.async_find_installation(enterprise_id=None, team_id=ALICE.team)

        assert first is not None and first.user_id == "UINSTALLER" and first.bot_token == "xoxb-RENEWED"
        assert latest is not None and latest.user_id == "USOMEONEELSE"
        await store.async_delete_installation(enterprise_id=None, team_id=ALICE.team, user_id="UINSTALLER")
        assert (
            await store.async_find_installation(enterprise_id=None, team_id=ALICE.team, user_id="UINSTALLER")
            is None
        )
        assert await store.async_find_bot(enterprise_id=None, team_id=ALICE.team) is not None
    finally:
        await shared.close()


async def test_a_deleted_installation_leaves_no_copy_of_its_sealed_record_in_any_file(
    oauth_settings: Settings,
) -> None:
    await install(oauth_settings, ALICE)
    with sqlite3.connect(oauth_settings.data_dir / "shared.sqlite3") as db:
        sealed = [
            value for (value,) in db.execute("SELECT value FROM shared_records WHERE value IS NOT NULL")
        ]
    assert sealed

    shared = open_shared_state(oauth_settings)
    try:
        await installation_store(oauth_settings, shared).async_delete_all(
            enterprise_id=None, team_id=ALICE.team
        )
    finally:
        await shared.close()

    files = [path for path in oauth_settings.data_dir.rglob("*") if path.is_file()]
    assert [str(path) for path in files for value in sealed if value in path.read_bytes()] == []

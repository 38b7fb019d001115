"""A person's memory in their hands, on the core API and every backend: edit, expiry, retention,
pause, provenance and import."""

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from core import Hub, InvalidInput, Source, UserKey, commands
from core.memory import PostRef, sweeper
from core.records import utc_now

pytestmark = pytest.mark.every_backend

ALICE, BOB = UserKey.cli("alice"), UserKey.cli("bob")


# -- edit ----------------------------------------------------------------------------------------
async def test_an_edit_replaces_the_text_and_erases_the_old_one(
    hub: Hub, traces: Callable[[str], list[str]]
) -> None:
    alice = hub.scoped(ALICE)
    [record] = await commands.remember(alice, "my locker code is Quokka", Source("cli", "t"))
    edited = await commands.edit(alice, record.id, "my locker code is Wombat")
    assert edited.record is not None and edited.record.id == record.id
    assert [r.text for r in await alice.get_all()] == ["my locker code is Wombat"]
    assert [r.text for r in await alice.search("locker code")] == ["my locker code is Wombat"]
    assert traces("Quokka") == []


async def test_someone_elses_id_cannot_be_edited_and_nothing_changes(hub: Hub) -> None:
    [bobs] = await hub.scoped(BOB).add("bob's bank is Lakeside")
    with pytest.raises(InvalidInput, match="no memory with that id"):
        await commands.edit(hub.scoped(ALICE), bobs.id, "stolen")
    assert [r.text for r in await hub.scoped(BOB).get_all()] == ["bob's bank is Lakeside"]
    with pytest.raises(InvalidInput, match="id of the memory"):
        await commands.edit(hub.scoped(ALICE), "not-an-id", "text")


# -- expiry --------------------------------------------------------------------------------------
async def test_a_duration_sets_an_expiry_and_the_sweep_erases_it(
    hub: Hub, traces: Callable[[str], list[str]]
) -> None:
    alice = hub.scoped(ALICE)
    [kept] = await commands.remember(alice, "parking spot is Bluefin for 30 days")
    assert kept.text == "parking spot is Bluefin"
    assert kept.expires_at is not None
    assert timedelta(days=29) < kept.expires_at - utc_now() <= timedelta(days=30)
    await commands.remember(alice, "I like tea")
    assert await sweeper.sweep_expired(hub, utc_now() + timedelta(days=31)) == 1
    assert [r.text for r in await alice.get_all()] == ["I like tea"]
    assert traces("Bluefin") == []
    assert await sweeper.sweep_expired(hub, utc_now() + timedelta(days=31)) == 0  # idempotent


@pytest.mark.parametrize("text", ["gone for 0 days", "gone until 2020-01-01", "gone for 99 years"])
async def test_a_past_or_absurd_expiry_is_refused_and_nothing_is_stored(hub: Hub, text: str) -> None:
    alice = hub.scoped(ALICE)
    with pytest.raises(InvalidInput):
        await commands.remember(alice, text)
    assert await alice.count() == 0


async def test_a_default_expiry_applies_to_new_memories(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    settings = await commands.set_default_expiry(alice, "2 weeks")
    assert settings.expiry_days == 14
    [record] = await commands.remember(alice, "the office wifi is Otter")
    assert record.expires_at is not None and record.expires_at - utc_now() > timedelta(days=13)
    await commands.set_default_expiry(alice, "off")
    [kept] = await commands.remember(alice, "my name is Alice")
    assert kept.expires_at is None
    with pytest.raises(InvalidInput):
        await commands.set_default_expiry(alice, "soonish")


# -- retention -----------------------------------------------------------------------------------
async def test_workspace_retention_erases_only_old_memories_of_that_workspace(hub: Hub) -> None:
    in_team, other_team = UserKey.parse("slack:T1:U1"), UserKey.parse("slack:T2:U1")
    await hub.scoped(in_team).add("made in team one")
    await hub.scoped(other_team).add("made in team two")
    scope = sweeper.retention_scope("slack", "T1")
    assert await sweeper.set_retention(hub, scope, 30) == 0  # nothing is older yet
    assert await sweeper.count_older(hub, scope, 30, now=utc_now() + timedelta(days=31)) == 1
    assert await sweeper.apply_retention(hub, scope, 30, now=utc_now() + timedelta(days=31)) == 1
    assert await hub.scoped(in_team).count() == 0
    assert await hub.scoped(other_team).count() == 1
    with pytest.raises(InvalidInput):
        await sweeper.set_retention(hub, scope, 0)


# -- pause ---------------------------------------------------------------------------------------
async def test_pause_is_the_persons_and_is_erased_with_them(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    assert (await commands.set_paused(alice, True)).paused
    assert not (await hub.scoped(BOB).settings()).paused
    await alice.add("still remembered while paused")
    assert (await alice.settings()).paused
    await alice.erase_everything()
    assert not (await alice.settings()).paused


async def test_settings_read_at_once_are_the_stored_ones_and_a_busy_store_is_asked_on_a_thread(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, posts = hub.scoped(ALICE), hub._calls.posts
    await commands.set_default_expiry(alice, "30 days")
    at_once = posts.person_settings_at_once(str(ALICE))
    assert at_once in (None, posts.person_settings(str(ALICE)))  # PostgreSQL never reads at once
    assert (await alice.settings()).expiry_days == 30

    monkeypatch.setattr(posts, "person_settings_at_once", lambda user: None)  # as if SQLite were busy
    assert (await alice.settings()).expiry_days == 30
    [record] = await alice.add("expires with the default")
    assert record.expires_at is not None and record.expires_at - utc_now() > timedelta(days=29)


def test_a_settings_read_at_once_never_waits(tmp_path: object) -> None:
    import sqlite3
    from pathlib import Path

    from core.memory.posts import SQLitePostStore
    from core.memory.prefs import PersonSettings

    path = Path(str(tmp_path)) / "posts.sqlite3"
    store = SQLitePostStore(path)
    store.set_person_settings("cli:alice", PersonSettings(paused=True))
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # a writer holding every lock a rollback journal would need
    assert store.person_settings_at_once("cli:alice") == PersonSettings(paused=True)  # WAL: no wait
    writer.execute("ROLLBACK")
    with store._instant_lock:  # another thread is reading this way: answer None, do not queue
        assert store.person_settings_at_once("cli:alice") is None
    store.close()
    assert store.person_settings_at_once("cli:alice") is None


# -- provenance and import -----------------------------------------------------------------------
async def test_provenance_is_kept_and_exported(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    link = "https://example.slack.com/archives/C1/p1"
    await alice.add("typed one", source=Source("slack", "C1"))
    await alice.add("saved one", source=Source("slack", "C1", how="saved", permalink=link))
    [typed, saved] = (await alice.export())["memories"]
    assert typed["source"]["how"] == "typed" and typed["source"]["channel"] == "C1"
    assert saved["source"] == {**saved["source"], "how": "saved", "permalink": link}


async def test_the_export_shows_the_persons_settings_and_what_cubby_posted_of_theirs(hub: Hub) -> None:
    alice, bob = hub.scoped(ALICE), hub.scoped(BOB)
    [seat] = await alice.add("window seat")
    [lunch] = await bob.add("no lunch meetings")
    await commands.set_paused(alice, True)
    await commands.set_default_expiry(alice, "30 days")
    await alice.record_post(PostRef("slack", "message", "DU1", "1.000100"), [seat.id])
    await bob.record_post(PostRef("slack", "message", "DU2", "2.000200"), [lunch.id])
    content = (await commands.export(alice)).content
    exported = json.loads(content)
    assert exported["settings"] == {"paused": True, "expiry_days": 30}
    # One post per line, as memories are: a long list is written by the fast encoder.
    assert [line.strip() for line in content.decode().splitlines() if '"kind"' in line] == [
        json.dumps(exported["posts"][0], ensure_ascii=False)
    ]
    assert [(p["channel"], p["id"]) for p in exported["posts"]] == [("DU1", "1.000100")]
    assert (await bob.export())["settings"] == {"paused": False, "expiry_days": None}


async def test_export_forget_import_gives_back_the_same_memories(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    await commands.remember(alice, "first thing", Source("cli", "t"))
    await commands.remember(alice, "second thing for 10 days", Source("cli", "t"))
    before = await alice.export()
    exported = (await commands.export(alice)).content
    await alice.erase_everything()
    result = await commands.import_export(alice, exported)
    assert (result.added, result.already_held) == (2, 0)
    after = await alice.export()
    assert after["memories"] == before["memories"]
    again = await commands.import_export(alice, exported)
    assert (again.added, again.already_held) == (0, 2)
    assert await alice.count() == 2


def _export_of(user: str, memories: list[dict[str, object]]) -> bytes:
    return json.dumps({"format": "cubby.export.v1", "user": user, "memories": memories}).encode()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "not JSON"),
        (json.dumps({"format": "other", "memories": []}).encode(), "format"),
        (_export_of("cli:bob", [{"text": "bob's"}]), "someone else"),
        (_export_of("cli:alice", [{"text": ""}]), "no text"),
        (_export_of("cli:alice", [{"text": "ok"}, "nope"]), "not an object"),
        (_export_of("cli:alice", [{"text": "x", "expires_at": "soon"}]), "expiry"),
        (b" " * (6 * 1024 * 1024), "larger than"),
    ],
)
async def test_a_bad_import_is_refused_whole_and_nothing_changes(hub: Hub, content: bytes, why: str) -> None:
    alice = hub.scoped(ALICE)
    await alice.add("already here")
    with pytest.raises(InvalidInput, match=why):
        await commands.import_export(alice, content)
    assert [r.text for r in await alice.get_all()] == ["already here"]
    assert await hub.scoped(BOB).count() == 0


async def test_an_import_over_the_count_limit_is_refused(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    limit = alice.limits[0]
    content = _export_of("cli:alice", [{"text": f"m{i}"} for i in range(limit + 1)])
    with pytest.raises(InvalidInput, match="at most"):
        await commands.import_export(alice, content)
    assert await alice.count() == 0


async def test_an_import_lands_under_the_importer_whatever_ids_the_file_names(hub: Hub) -> None:
    [bobs] = await hub.scoped(BOB).add("bob's secret")
    content = _export_of("cli:alice", [{"id": bobs.id, "text": "alice's own"}])
    result = await commands.import_export(hub.scoped(ALICE), content)
    assert result.added == 1
    [mine] = await hub.scoped(ALICE).get_all()
    assert mine.text == "alice's own" and mine.id != bobs.id
    assert [r.text for r in await hub.scoped(BOB).get_all()] == ["bob's secret"]

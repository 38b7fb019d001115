"""The hosted backend (mem0's platform through ``AsyncMemoryClient``), contract-tested against a fake
of the platform's HTTP API on 127.0.0.1 that records every request and flags any that is not
confined to exactly one person (``fake_platform.py``). Every test ends with no such violation."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from core import (
    BackendUnavailable,
    ConfigError,
    Hub,
    MemoryFull,
    Settings,
    Source,
    UserKey,
    load_settings,
    open_hub,
    sweeper,
)
from core.records import utc_now
from tests.loopback.mem0_platform import API_KEY, FakePlatform


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(tmp_path: Path, platform: FakePlatform) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        backend="hosted",
        mem0_api_key=API_KEY,
        mem0_host=platform.url,
        sweep_seconds=0,  # the sweeper's listing would be one more request; sweeps are called here
    )


@pytest.fixture
async def hub(settings: Settings, platform: FakePlatform) -> AsyncIterator[Hub]:
    async with open_hub(settings=settings) as opened:
        yield opened
    assert platform.violations == []


async def test_a_person_remembers_finds_lists_and_counts_their_memories(hub: Hub) -> None:
    alice = hub.scoped(UserKey.slack("T1", "U1"))
    [record] = await alice.add("I am vegetarian", source=Source("slack", "dm"))
    await alice.add("I always want a window seat")
    assert record.text == "I am vegetarian" and record.source and record.source.platform == "slack"
    assert await alice.count() == 2
    assert [r.text for r in await alice.get_all()] == ["I am vegetarian", "I always want a window seat"]
    assert [r.text for r in await alice.search("window seat")] == ["I always want a window seat"]
    assert await alice.get(record.id) == record


async def test_people_with_the_same_texts_never_see_each_other(hub: Hub) -> None:
    team_one, team_two = hub.scoped(UserKey.slack("T1", "U1")), hub.scoped(UserKey.slack("T2", "U1"))
    discord = hub.scoped(UserKey.discord(81234567890123456))
    for person in (team_one, team_two, discord):
        await person.add("My locker code is 4417")
    await team_one.add("I play tennis")
    mine = {r.id for r in await team_one.get_all()}
    assert len(mine) == 2
    for other in (team_two, discord):
        assert {r.text for r in await other.get_all()} == {"My locker code is 4417"}
        assert [r.text for r in await other.search("tennis")] == []
        assert not {r.id for r in await other.search("locker code")} & mine


async def test_someone_elses_memory_id_is_unknown_and_no_request_ever_touches_it(
    hub: Hub, platform: FakePlatform
) -> None:
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    [bobs] = await bob.add("My passport number is X1234")
    assert await alice.get(bobs.id) is None
    assert await alice.delete(bobs.id) is False
    assert not [r for r in platform.requests if bobs.id in r.path]
    assert [r.text for r in await bob.get_all()] == ["My passport number is X1234"]


async def test_forgetting_one_memory_deletes_exactly_that_one(hub: Hub, platform: FakePlatform) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    [gone] = await alice.add("Door code 1234")
    await alice.add("Bike lock 9876")
    assert await alice.delete(gone.id) is True
    assert [m["memory"] for m in platform.owned_by("cli:alice")] == ["Bike lock 9876"]
    assert await alice.delete(gone.id) is False


async def test_forget_everything_erases_the_person_and_their_entity_and_waits_for_the_platform(
    hub: Hub, platform: FakePlatform
) -> None:
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    for text in ("I am vegetarian", "I play tennis", "My dog is called Biscuit"):
        await alice.add(text)
    await bob.add("I drink my coffee black")
    platform.erase_delay_seconds = 0.3  # the platform queues deletions
    assert await alice.delete_all() == 3
    assert platform.owned_by("cli:alice") == []  # already done when Cubby says so
    assert "cli:alice" not in platform.users
    assert await alice.get_all() == [] and await alice.search("tennis") == []
    assert [m["memory"] for m in platform.owned_by("cli:bob")] == ["I drink my coffee black"]
    assert await alice.delete_all() == 0


async def test_every_request_cubby_sends_names_exactly_one_person(hub: Hub, platform: FakePlatform) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    [record] = await alice.add("I work from Lisbon")
    await alice.add("I play tennis")
    await alice.search("where do I work")
    await alice.export()
    await alice.delete(record.id)
    await alice.delete_all()
    endpoints = {f"{r.method} {r.path.replace(record.id, '{id}')}" for r in platform.requests}
    assert endpoints == {
        "GET /v1/ping/",
        "POST /v3/memories/add/",
        "POST /v3/memories/",
        "POST /v3/memories/search/",
        "DELETE /v1/memories/{id}/",
        "DELETE /v1/memories/",
        "DELETE /v2/entities/user/cli:alice/",
    }
    for request in platform.requests:
        if request.path in ("/v3/memories/", "/v3/memories/search/"):
            assert request.body["filters"]["user_id"] == "cli:alice"
        elif request.path == "/v3/memories/add/":
            assert request.body["user_id"] == "cli:alice"
        elif request.path == "/v1/memories/":
            assert request.query == {"user_id": "cli:alice"}
    assert platform.violations == []


async def test_the_fake_platform_catches_the_unscoped_calls_mem0s_own_client_would_send(
    hub: Hub, platform: FakePlatform
) -> None:
    """Asked without a user, mem0's client sends the request anyway. The checks that
    every other test relies on do catch it (and Cubby itself never sends one)."""
    client = hub._backend.client
    for unscoped in (client.get_all(), client.get_all(filters={"user_id": "*"}), client.delete_all()):
        with pytest.raises(Exception):  # noqa: B017 - the fake refuses them; which error is mem0's
            await unscoped
    assert len(platform.violations) == 3
    platform.violations.clear()


async def test_workspace_listing_names_only_that_workspaces_people(hub: Hub) -> None:
    for team, user in [("T1", "U1"), ("T1", "U2"), ("T10", "U1"), ("T2", "U3"), ("T1", "U4")]:
        await hub.scoped(UserKey.slack(team, user)).add("hello")
    found = await hub.users_in_workspace("slack:T1:")
    assert [str(key) for key in found] == ["slack:T1:U1", "slack:T1:U2", "slack:T1:U4"]


async def test_a_platform_failure_is_backend_unavailable_and_logs_no_memory_text(
    hub: Hub, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    await alice.add("My secret recipe uses saffron")
    platform.fail_next_with = 500
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailable):
        await alice.search("saffron recipe")
    assert "saffron" not in caplog.text


async def test_memory_full_is_enforced_before_anything_is_sent(
    settings: Settings, platform: FakePlatform
) -> None:
    async with open_hub(settings=settings.model_copy(update={"max_memories_per_user": 2})) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        await alice.add("one")
        await alice.add("two")
        with pytest.raises(MemoryFull):
            await alice.add("three")
    assert len(platform.owned_by("cli:alice")) == 2
    assert len([r for r in platform.requests if r.path == "/v3/memories/add/"]) == 2


async def test_the_export_says_what_the_platform_may_still_hold(hub: Hub) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    await alice.add("I am vegetarian")
    document = await alice.export()
    assert document["count"] == 1 and "history" in document["also_held"]


async def test_a_refused_api_key_stops_start_up_with_a_clear_message(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="MEM0_API_KEY"):
        async with open_hub(settings=settings.model_copy(update={"mem0_api_key": SecretStr("wrong")})):
            pass


async def test_an_unreachable_platform_stops_start_up_with_a_clear_message(settings: Settings) -> None:
    with pytest.raises(BackendUnavailable, match="cannot reach the mem0 platform"):
        async with open_hub(settings=settings.model_copy(update={"mem0_host": "http://127.0.0.1:9"})):
            pass


async def test_an_edit_is_a_new_memory_with_the_old_ones_source_and_the_old_one_is_gone(
    hub: Hub, platform: FakePlatform
) -> None:
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    [old] = await alice.add("I work from Lisbon", source=Source("cli", "t"))
    [bobs] = await bob.add("bob's text")
    edited = await alice.update(old.id, "I work from Porto")
    assert edited.record is not None and edited.record.text == "I work from Porto"
    assert edited.record.source is not None and edited.record.source.how == "typed"
    assert [r.text for r in await alice.get_all()] == ["I work from Porto"]
    assert (await alice.update(bobs.id, "stolen")).record is None
    assert [r.text for r in await bob.get_all()] == ["bob's text"]
    assert all("Lisbon" not in json.dumps(m) for m in platform.memories.values())


async def test_expired_memories_are_erased_by_the_sweep(hub: Hub, platform: FakePlatform) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    await alice.add("short lived", expires_at=utc_now() + timedelta(hours=1))
    await alice.add("kept")
    assert await sweeper.sweep_expired(hub, utc_now() + timedelta(hours=2)) == 1
    assert [r.text for r in await alice.get_all()] == ["kept"]


def by_id_deletes(platform: FakePlatform) -> int:
    return sum(
        1
        for r in platform.requests
        if r.method == "DELETE" and r.path.startswith("/v1/memories/") and r.path != "/v1/memories/"
    )


async def test_an_extraction_queued_on_the_platform_before_a_forget_is_deleted_when_it_lands(
    settings: Settings, platform: FakePlatform
) -> None:
    platform.extract_delay_seconds = 0.4  # the platform lands the extraction after the forget
    with_llm = settings.model_copy(update={"openai_api_key": SecretStr("sk-unused-by-the-platform")})
    async with open_hub(settings=with_llm) as hub:
        alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
        await alice.add("I live in Lisbon")
        await bob.add("I live in Berlin")
        assert await alice.add("My PIN is 4321", extract=True) == []  # queued on the platform
        assert await alice.delete_all() == 1
        deletes_before = by_id_deletes(platform)
        await asyncio.sleep(0.6)  # it lands at 0.4 s; the sweep after the forget deletes it again
        for _ in range(40):
            if by_id_deletes(platform) > deletes_before and not platform.owned_by("cli:alice"):
                break
            await asyncio.sleep(0.1)
        assert by_id_deletes(platform) == deletes_before + 1 and platform.owned_by("cli:alice") == []
        assert await alice.get_all() == [] and await alice.count() == 0
        assert [r.text for r in await bob.get_all()] == ["I live in Berlin"]
        await alice.add("I moved to Porto")  # asked for after the forget: kept
        assert [r.text for r in await alice.get_all()] == ["I moved to Porto"]
    assert platform.violations == []


async def test_a_memory_from_before_a_forget_is_never_returned_even_without_a_sweep(
    settings: Settings, platform: FakePlatform
) -> None:
    """A process that forgot and then stopped leaves no sweep running: every read filters instead."""
    platform.extract_delay_seconds = 0.3
    with_llm = settings.model_copy(update={"openai_api_key": SecretStr("sk-unused-by-the-platform")})
    async with open_hub(settings=with_llm) as hub:
        await hub.scoped(UserKey.cli("alice")).add("My PIN is 4321", extract=True)
        await hub.scoped(UserKey.cli("alice")).delete_all()
    await asyncio.sleep(0.5)  # landed after the forget, with nobody sweeping
    assert len(platform.owned_by("cli:alice")) == 1
    async with open_hub(settings=with_llm) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        assert await alice.search("PIN") == [] and await alice.get_all() == []
    assert platform.owned_by("cli:alice") == []  # the read deleted it
    assert platform.violations == []

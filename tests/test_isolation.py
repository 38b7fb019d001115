"""Isolation through the public API: a person's memories are reachable only through that person's
ScopedMemory - by search, by listing, by id, or by deleting."""

import inspect
import random

import pytest

from core import Hub, InvalidUserKey, ScopedMemory, UserKey
from core.memory.stores.filters import UnsupportedFilter

pytestmark = pytest.mark.every_backend

TOPICS = [
    "I am vegetarian",
    "I love spicy Thai food",
    "I always want a window seat",
    "I prefer aisle seats",
    "My favourite colour is green",
    "I am allergic to peanuts",
    "I work from Lisbon",
    "I play tennis",
    "I drink my coffee black",
    "My dog is called Biscuit",
]


def owner_marker(index: int) -> str:
    return f"(person {index:03d})"


@pytest.fixture
async def population(hub: Hub) -> list[tuple[ScopedMemory, set[str]]]:
    """60 people across Slack workspaces, Discord and the terminal. Many share the very same texts."""
    rng = random.Random(7)
    keys = (
        [UserKey.slack(f"T{i % 3}", "U1" if i < 10 else f"U{i}") for i in range(30)]  # same U1 in 3 teams
        + [UserKey.discord(10**17 + i) for i in range(20)]
        + [UserKey.cli(f"user-{i}") for i in range(10)]
    )
    keys = list(dict.fromkeys(keys))
    people = []
    for index, key in enumerate(keys):
        memory = hub.scoped(key)
        texts = set(rng.sample(TOPICS, 3))  # identical texts across people
        texts.add(f"{rng.choice(TOPICS)} {owner_marker(index)}")
        for text in sorted(texts):
            await memory.add(text)
        people.append((memory, texts))
    assert len(people) >= 50
    return people


async def test_each_person_finds_and_lists_only_their_own_memories(population) -> None:
    all_ids: dict[str, ScopedMemory] = {}
    for memory, texts in population:
        listed = await memory.get_all()
        assert {r.text for r in listed} == texts
        for record in listed:
            all_ids[record.id] = memory
        for query in ("food preferences", "seats on a plane", "what do I drink", "person 001"):
            for record in await memory.search(query, limit=10):
                assert all_ids.get(record.id, memory) is memory
                assert record.text in texts
    assert len(all_ids) == sum(len(t) for _, t in population)


async def test_someone_elses_memory_id_behaves_exactly_like_an_unknown_id(population) -> None:
    (alice, _), (bob, bob_texts) = population[0], population[1]
    bobs_ids = [r.id for r in await bob.get_all()]
    for memory_id in bobs_ids:
        assert await alice.get(memory_id) is None
        assert await alice.delete(memory_id) is False
    assert await alice.get("00000000-0000-4000-8000-000000000000") is None
    assert {r.text for r in await bob.get_all()} == bob_texts


@pytest.mark.parametrize(
    "memory_id",
    ["", "*", "%", " ", None, 42, "../../etc", "' OR 1=1 --", "00000000-0000-4000-8000-00000000000"],
)
async def test_malformed_memory_ids_change_nothing(population, memory_id) -> None:
    alice, texts = population[0]
    assert await alice.get(memory_id) is None
    assert await alice.delete(memory_id) is False
    assert {r.text for r in await alice.get_all()} == texts


async def test_the_same_user_id_in_two_workspaces_never_shares_memories(hub: Hub) -> None:
    team_one = hub.scoped(UserKey.slack("T1", "U1"))
    team_two = hub.scoped(UserKey.slack("T2", "U1"))
    await team_one.add("My locker code is 4417")
    assert await team_two.search("locker code") == []
    assert await team_two.get_all() == []
    assert await team_two.delete_all() == 0
    assert [r.text for r in await team_one.get_all()] == ["My locker code is 4417"]


@pytest.mark.parametrize("bad", ["*", "", "slack:T1:*", "discord:*", "slack:t1:u1", " cli:alice", None])
def test_a_scoped_memory_cannot_be_made_from_anything_but_a_valid_user_key(hub: Hub, bad) -> None:
    with pytest.raises(InvalidUserKey):
        hub.scoped(bad)


def test_a_scoped_memory_cannot_be_built_around_the_hub(hub: Hub) -> None:
    with pytest.raises(TypeError):
        ScopedMemory(hub, UserKey.cli("alice"))


def test_no_scoped_method_takes_a_user_or_a_filter() -> None:
    for name, method in inspect.getmembers(ScopedMemory, inspect.isfunction):
        if name.startswith("_"):
            continue
        parameters = set(inspect.signature(method).parameters)
        assert not parameters & {"user_id", "user", "key", "filters", "filter", "agent_id", "run_id"}, name
        assert not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(method).parameters.values()), name


async def test_workspace_listing_names_only_that_workspaces_people(population, hub: Hub) -> None:
    keys = await hub.users_in_workspace("slack:T1:")
    assert keys and all(str(k).startswith("slack:T1:") for k in keys)
    with pytest.raises(InvalidUserKey):
        await hub.users_in_workspace("slack:T1")  # not a whole segment: would also match T10, T1X...


# Filters that would read across people, and whether mem0 2.2.1 passes them down to Cubby's store
# (True) or refuses them itself first (False: its own ValueError about the filter's shape).
CROSS_PEOPLE_FILTERS = [
    ({"user_id": "*"}, True),
    ({"agent_id": "*", "OR": [{"user_id": "cli:user-1"}, {"user_id": "cli:user-2"}]}, True),
    ({"run_id": "x"}, True),
    ({"user_id": {"in": ["cli:user-1", "cli:user-2"]}}, False),
    ({"role": "user"}, False),
]
ONE_USER_ONLY = "every read must be scoped to exactly one user_id"


@pytest.mark.parametrize(("filters", "mem0_passes_it_down"), CROSS_PEOPLE_FILTERS)
async def test_even_mem0_called_directly_cannot_read_across_people(
    population, hub: Hub, filters, mem0_passes_it_down: bool
) -> None:
    """mem0's own holes - ``"*"`` matching everyone, filters naming several people or none - aimed at
    mem0 itself underneath the hub. Cubby's store refuses every one of them itself, whether or not
    mem0 lets it through, so no future mem0 that stops checking could widen a read."""
    memory = hub._backend.inner.memory
    store = memory.vector_store
    vector = memory.embedding_model.embed("food")
    with pytest.raises(UnsupportedFilter, match=ONE_USER_ONLY):
        store.search(query="food", vectors=vector, top_k=5, filters=filters)
    with pytest.raises(UnsupportedFilter, match=ONE_USER_ONLY):
        store.list(filters=filters)
    for read in (lambda: memory.search("food", filters=filters), lambda: memory.get_all(filters=filters)):
        with pytest.raises(ValueError) as refused:
            read()
        assert (refused.type is UnsupportedFilter) is mem0_passes_it_down


async def test_even_mem0_delete_all_with_a_wildcard_deletes_nobody(population, hub: Hub) -> None:
    memory = hub._backend.inner.memory
    before = [await person.count() for person, _ in population]
    with pytest.raises(UnsupportedFilter, match=ONE_USER_ONLY):
        memory.delete_all(user_id="*")
    assert [await person.count() for person, _ in population] == before

"""Erasure: after a forget, no byte of the person's memories is left anywhere in the data dir -
database, WAL, entity store - and everyone else's memories are untouched. On PostgreSQL: no row of
any table holds them (``traces`` in conftest; what PostgreSQL keeps below rows is in the README)."""

import json
import uuid
from collections.abc import Callable

import pytest

from core import Hub, Settings, UserKey, commands, open_hub

pytestmark = pytest.mark.every_backend
Traces = Callable[[str], list[str]]


def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


async def test_forget_everything_leaves_no_trace_on_disk(hub: Hub, traces: Traces) -> None:
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    alice_secrets = [canary() for _ in range(30)]
    bob_secret = canary()
    for secret in alice_secrets:
        await alice.add(f"My secret word is {secret}")
    await bob.add(f"My secret word is {bob_secret}")
    assert len(await alice.get_all()) == 30  # it really was stored...
    assert traces(alice_secrets[0]) == []  # ...and never in clear, even before the forget

    assert await alice.delete_all() == 30
    for secret in alice_secrets:
        assert traces(secret) == []
    assert [r.text for r in await bob.get_all()] == [f"My secret word is {bob_secret}"]
    assert await alice.get_all() == [] and await alice.search("secret word") == []


async def test_forgetting_one_memory_erases_exactly_that_one(hub: Hub, traces: Traces) -> None:
    alice = hub.scoped(UserKey.slack("T1", "U1"))
    gone, kept = canary(), canary()
    [record] = await alice.add(f"Door code {gone}")
    await alice.add(f"Bike lock {kept}")
    assert await alice.delete(record.id) is True
    assert traces(gone) == []
    assert [r.text for r in await alice.get_all()] == [f"Bike lock {kept}"]
    assert await alice.delete(record.id) is False  # already gone


async def test_linked_entities_are_erased_with_their_person(hub: Hub, traces: Traces) -> None:
    """mem0 links extracted entities (with spaCy installed) in a second collection, and leaves them
    behind when the delete runs in a fresh process (mem0 #7226). Rows like mem0's are planted here."""
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    [record] = await alice.add("I met Zebulon Quaxworth in Lisbon")
    await bob.add("Nothing to see")
    entities = hub._backend.inner.entities
    vector = hub._backend.inner.embedder.embed("Zebulon Quaxworth")
    entities.insert(
        vectors=[vector, vector],
        ids=[str(uuid.uuid4()), str(uuid.uuid4())],
        payloads=[
            {"data": "Zebulon Quaxworth", "user_id": "cli:alice", "linked_memory_ids": [record.id]},
            {"data": "Bob's entity", "user_id": "cli:bob", "linked_memory_ids": []},
        ],
    )
    assert await alice.delete_all() == 1
    assert traces("Quaxworth") == []
    assert entities.count("cli:bob") == 1


async def test_erasure_holds_across_a_restart(settings: Settings, traces: Traces) -> None:
    secret = canary()
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.discord(123456789012345678)).add(f"Passport number {secret}")
    async with open_hub(settings=settings) as hub:
        person = hub.scoped(UserKey.discord(123456789012345678))
        assert [r.text for r in await person.get_all()] == [f"Passport number {secret}"]
        assert await person.delete_all() == 1
    assert traces(secret) == []


async def test_export_holds_everything_and_only_that_persons(hub: Hub) -> None:
    alice, bob = hub.scoped(UserKey.cli("alice")), hub.scoped(UserKey.cli("bob"))
    await alice.add("I am vegetarian")
    await bob.add("I always want a window seat")
    document = await alice.export()
    assert document["user"] == "cli:alice" and document["count"] == 1
    assert [m["text"] for m in document["memories"]] == ["I am vegetarian"]
    assert "window" not in str(document)


async def test_the_export_file_is_that_document_one_memory_per_line(hub: Hub) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    texts = ["I am vegetarian", 'Quote: "ünïcode"\nand a line break', "I like tea"]
    for text in texts:
        await alice.add(text)
    exported = await commands.export(alice)
    document = json.loads(exported.content)
    assert document["user"] == "cli:alice" and document["count"] == exported.count == 3
    assert sorted(m["text"] for m in document["memories"]) == sorted(texts)
    assert set(exported.memory_ids) == {m["id"] for m in document["memories"]}
    assert (
        len(exported.content.decode().splitlines())
        == len(json.dumps({k: v for k, v in document.items() if k != "memories"}, indent=2).splitlines())
        + 1
        + 3
        + 1
    )

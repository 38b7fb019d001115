"""A fact extraction is the slowest write Cubby makes: seconds waiting on the model, with more queued
behind it. A forget during that wait wins: neither the running extraction nor the queued ones land
anything afterwards."""

from __future__ import annotations

import asyncio
import dataclasses

from core import Hub, UserKey
from tests.loopback.openai_server import FakeOpenAI, extracted


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_extractions_running_or_queued_at_a_forget_land_nothing(
    llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice, bob = llm_hub.scoped(UserKey.cli("alice")), llm_hub.scoped(UserKey.cli("bob"))
    await alice.add("I live in Lisbon")
    await bob.add("I live in Berlin")
    slow = [dataclasses.replace(extracted(f"Secret fact {n}"), delay=1.0) for n in range(3)]
    fake_openai.script("extraction", *slow)

    extractions = [
        asyncio.create_task(alice.add(f"Tell you a secret, number {n}", extract=True)) for n in range(3)
    ]
    await until(lambda: len(fake_openai.requests("extraction")) == 1)  # one waits on the model...
    assert await alice.delete_all() == 1  # ...two are queued behind it, when Alice forgets

    assert await asyncio.gather(*extractions) == [[], [], []]
    assert await alice.get_all() == [] and await alice.count() == 0
    assert len(fake_openai.requests("extraction")) <= 1  # the queued ones did not even ask the model
    assert [r.text for r in await bob.get_all()] == ["I live in Berlin"]


async def test_an_extraction_asked_for_after_a_forget_lands(llm_hub: Hub, fake_openai: FakeOpenAI) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    await alice.add("I live in Lisbon")
    await alice.delete_all()
    fake_openai.script("extraction", extracted("Lives in Porto now"))
    await alice.add("I moved to Porto", extract=True)
    assert [r.text for r in await alice.get_all()] == ["Lives in Porto now"]

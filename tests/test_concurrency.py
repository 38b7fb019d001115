"""Many people at once, from one event loop: no errors, no foreign results, loop never blocked."""

import asyncio
import random
import threading
import time

import pytest

from core import Hub, UserKey

pytestmark = pytest.mark.every_backend

TEXTS = ["I am vegetarian", "window seat please", "I like jazz", "my cat is Miso", "I run marathons"]


async def person_session(hub: Hub, index: int, operations: int, foreign: list[str]) -> None:
    rng = random.Random(index)
    memory = hub.scoped(UserKey.cli(f"p{index}"))
    mine: set[str] = set()
    for step in range(operations):
        action = rng.choice(["add", "add", "search", "list", "delete", "count"])
        if action == "add":
            [record] = await memory.add(f"{rng.choice(TEXTS)} #{index}-{step}")
            mine.add(record.id)
        elif action == "search":
            found = await memory.search(rng.choice(TEXTS), limit=5)
            foreign.extend(r.text for r in found if r.id not in mine)
        elif action == "list":
            listed = await memory.get_all()
            foreign.extend(r.text for r in listed if r.id not in mine)
            assert {r.id for r in listed} == mine
        elif action == "delete" and mine:
            victim = rng.choice(sorted(mine))
            assert await memory.delete(victim)
            mine.discard(victim)
        elif action == "count":
            assert await memory.count() == len(mine)
    for record in await memory.get_all():
        assert f"#{index}-" in record.text


async def test_fifty_people_times_twenty_operations_at_once(hub: Hub) -> None:
    foreign: list[str] = []
    results = await asyncio.gather(
        *(person_session(hub, i, 20, foreign) for i in range(50)), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert foreign == []


async def test_memory_work_runs_off_the_event_loop_thread(hub: Hub) -> None:
    loop_thread = threading.get_ident()
    store = hub._backend.inner.store
    seen: list[int] = []
    original = store.search

    def recording_search(*args, **kwargs):
        seen.append(threading.get_ident())
        return original(*args, **kwargs)

    store.search = recording_search
    memory = hub.scoped(UserKey.cli("loop"))
    await memory.add("I am vegetarian")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            ticks += 1
            await asyncio.sleep(0)

    await asyncio.gather(ticker(), *(memory.search("food") for _ in range(20)))
    assert seen and loop_thread not in seen
    assert ticks > 20


async def test_people_arriving_together_are_embedded_in_batches(hub: Hub) -> None:
    batches: list[int] = []
    embed = hub._backend.embed_queue._embed

    def recording_embed(texts: list[str]) -> None:
        batches.append(len(texts))
        embed(texts)

    hub._backend.embed_queue._embed = recording_embed
    people = [hub.scoped(UserKey.cli(f"b{i}")) for i in range(40)]
    results = await asyncio.gather(*(p.search(f"distinct question number {i}") for i, p in enumerate(people)))
    assert results == [[] for _ in people]
    assert sum(batches) == 40 and max(batches) > 1 and max(batches) <= 16

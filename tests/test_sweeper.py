"""The sweeper every process runs: expired memories are erased in the background, and two
processes sweeping the same store at once erase each memory once and fail nothing."""

import asyncio
from datetime import timedelta

import pytest

from core import Settings, UserKey, open_hub, sweeper
from core.records import utc_now

pytestmark = pytest.mark.every_backend


async def _until(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_an_open_hub_erases_what_expires_without_being_asked(settings: Settings) -> None:
    swept = settings.model_copy(update={"sweep_seconds": 0.1})
    async with open_hub(settings=swept) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        await alice.add("gone soon", expires_at=utc_now() + timedelta(seconds=1))
        await alice.add("kept")
        assert await _until(lambda: _texts(alice, ["kept"]))


async def _texts(memory, expected: list[str]) -> bool:  # type: ignore[no-untyped-def]
    return [r.text for r in await memory._calls.run(memory._backend.get_all, str(memory.key))] == expected


async def test_two_processes_sweeping_at_once_erase_each_memory_once(settings: Settings) -> None:
    async with open_hub(settings=settings) as first, open_hub(settings=settings) as second:
        alice = first.scoped(UserKey.cli("alice"))
        for number in range(6):
            await alice.add(f"note {number}", expires_at=utc_now() + timedelta(hours=1))
        await alice.add("kept")
        later = utc_now() + timedelta(hours=2)
        counts = await asyncio.gather(
            sweeper.sweep_expired(first, later), sweeper.sweep_expired(second, later)
        )
        # Each memory is erased by one of them, or by both at the same moment: never an error.
        assert sum(counts) >= 6 and max(counts) <= 6
        assert [r.text for r in await second.scoped(UserKey.cli("alice")).get_all()] == ["kept"]

"""No log line holds memory text, whatever the log level, when ``cubby discord`` runs: the bot is
started by Cubby's own ``run()`` after the root logger is at DEBUG (or INFO), then driven through a
whole session with a canary in every memory and message - including Discord answering 4xx/5xx and the
LLM failing - and stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

import bots.discord
from bots.discord import CubbyBot, run
from core import Settings
from tests.conftest import lines_with
from tests.loopback.discord_gateway import FakeDiscord
from tests.loopback.discord_harness import ALICE, BOB, DiscordSession, a_message
from tests.loopback.openai_server import FakeOpenAI, extracted, failure

CANARY = f"canary-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
async def running_cubby(
    root_log_level: int,
    fake_discord: FakeDiscord,
    discord_settings: Settings,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[DiscordSession, asyncio.Task[int]]]:
    """``cubby discord`` as ``run()`` starts it, ready; and the task running it."""
    built: list[CubbyBot] = []

    class Recorded(CubbyBot):  # run() builds the bot itself; this only keeps a handle on it
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            built.append(self)

    monkeypatch.setattr(bots.discord, "CubbyBot", Recorded)
    settings = discord_settings.model_copy(
        update={
            "openai_api_key": SecretStr("sk-cubby-test"),
            "openai_base_url": fake_openai.url,
            "llm_timeout_seconds": 3.0,
            "llm_max_retries": 1,
        }
    )
    running = asyncio.create_task(run(settings))
    await asyncio.wait_for(fake_discord.identified.wait(), timeout=30)
    await asyncio.wait_for(built[0].wait_until_ready(), timeout=30)
    yield DiscordSession(fake_discord, built[0], built[0].hub), running
    if not running.done():
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, timeout=30)


async def mention(cubby: DiscordSession, text: str) -> None:
    """Alice mentions Cubby in the server; returns once Cubby sent something (there, or by DM)."""
    mark = cubby.fake.mark()
    await cubby.say(ALICE, text, mention_bot=True)
    await cubby.fake.wait_for(lambda r: r.method == "POST" and r.path.endswith("/messages"), after=mark)


async def test_cubby_discord_logs_no_memory_text(
    root_records: list[logging.LogRecord],
    running_cubby: tuple[DiscordSession, asyncio.Task[int]],
    fake_openai: FakeOpenAI,
) -> None:
    cubby, running = running_cubby
    fake_openai.script("extraction", extracted(f"the PIN is {CANARY}"), failure(500), failure(500))

    await cubby.reply_to(await cubby.slash(ALICE, "remember", text=f"my PIN is {CANARY}"))
    await cubby.reply_to(await cubby.slash(ALICE, "remember", text=f"{CANARY} " + "x" * 3000))
    await cubby.reply_to(await cubby.slash(ALICE, "recall", query=CANARY))
    await cubby.reply_to(await cubby.slash(ALICE, "export"))
    saved = await cubby.reply_to(await cubby.message_command(ALICE, a_message(BOB, f"gate code {CANARY}")))
    await cubby.reply_to(await cubby.press(ALICE, saved.message_id, saved.custom_ids[0]))  # Undo
    await cubby.reply_to(await cubby.message_command(ALICE, a_message(BOB, f"{CANARY} " + "x" * 3000)))
    # This bot runs with the real timing: under load its answer may come after a "thinking" callback.
    question = await cubby.reply_with_buttons(await cubby.slash(ALICE, "forget", memory="PIN"))
    await cubby.reply_to(await cubby.press(BOB, question.message_id, question.custom_ids[0]))
    await mention(cubby, f"what is my PIN? {CANARY}")

    fake_openai.script("chat", failure(500), failure(500), failure(400))
    await mention(cubby, f"and my locker? {CANARY}")
    await mention(cubby, f"and my bike lock? {CANARY}")
    for status in (503, 403):  # Discord fails, then refuses, every message Cubby sends
        cubby.fake.message_status = status
        await mention(cubby, f"still there? {CANARY}")
    await cubby.reply_to(await cubby.slash(ALICE, "recall", page="two"))  # malformed: a string for a number
    await cubby.reply_to(await cubby.press(ALICE, question.message_id, question.custom_ids[0]))

    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(running, timeout=30) == 0

    carried = [r for r in cubby.fake.requests if CANARY in repr(r.body)]
    assert carried, "the session never showed the memory at all"
    assert fake_openai.requests("chat") and fake_openai.requests("extraction")
    assert any(r.name.startswith("bots.discord") for r in root_records)
    assert lines_with(root_records, CANARY) == []

"""Starting up: what CubbyBot tells Discord when it logs in and registers its commands, and how
``cubby discord`` runs and stops (signal -> stop taking work -> drain -> close, as on Slack)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator

import discord
import pytest

from bots.discord import run
from bots.discord.lifecycle import SHUTTING_DOWN
from core import ConfigError, Settings, commands
from tests.loopback.discord_gateway import FakeDiscord
from tests.loopback.discord_harness import ALICE, APPLICATION_ID, EPHEMERAL, GUILD_ID, DiscordSession

from .conftest import StartCubby


def command_syncs(fake: FakeDiscord) -> list:
    return [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_the_bot_identifies_with_server_and_message_intents_but_not_message_content(
    cubby: DiscordSession,
) -> None:
    identify = cubby.fake.identify
    assert identify is not None and identify["token"] == "fake-discord-token"
    intents = discord.Intents._from_value(identify["intents"])
    assert intents.guilds and intents.guild_messages and intents.dm_messages
    assert not intents.message_content  # DMs and mentions carry their text without it
    assert not intents.members and not intents.presences


async def test_commands_are_synced_once_to_the_dev_server_before_connecting(cubby: DiscordSession) -> None:
    [sync] = command_syncs(cubby.fake)
    paths = [r.path for r in cubby.fake.requests]

    assert sync.path == f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands"
    assert paths.index(sync.path) < paths.index("/gateway")  # in setup_hook, not on_ready
    commands = {command["name"]: command for command in sync.body}
    assert set(commands) == {"remember", "recall", "forget", "export", "edit", "cubby", "Remember this"}
    assert commands["Remember this"]["type"] == 3  # a message command
    # Every command in servers, the DM with Cubby and group DMs; for server and for user installs.
    assert all(command["contexts"] == [0, 1, 2] for command in commands.values())
    assert all(command["integration_types"] == [0, 1] for command in commands.values())
    [text] = commands["remember"]["options"]
    assert (text["name"], text["type"], text["required"]) == ("text", 3, True)
    assert (text["min_length"], text["max_length"]) == (1, 2000)
    query, page = commands["recall"]["options"]
    assert (query["name"], query["required"], query["max_length"]) == ("query", False, 500)
    assert (page["name"], page["type"], page["min_value"]) == ("page", 4, 1)
    [memory] = commands["forget"]["options"]
    assert (memory["name"], memory["required"]) == ("memory", False)
    assert commands["export"]["options"] == []


async def test_without_a_dev_server_commands_are_synced_globally(
    start_cubby: StartCubby, discord_settings: Settings
) -> None:
    cubby = await start_cubby(discord_settings.model_copy(update={"discord_dev_guild_id": None}))

    [sync] = command_syncs(cubby.fake)
    assert sync.path == f"/applications/{APPLICATION_ID}/commands"


@pytest.fixture
def discord_log_level() -> Iterator[logging.Logger]:
    """run() caps the discord logger; put the level back for the tests that follow."""
    logger = logging.getLogger("discord")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield logger
    logger.setLevel(level)


async def test_cubby_discord_needs_a_token(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await run(settings)


async def test_cubby_discord_exits_with_1_when_discord_rejects_the_token(
    fake_discord: FakeDiscord,
    discord_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    discord_log_level: logging.Logger,
) -> None:
    fake_discord.accept_token = False

    assert await asyncio.wait_for(run(discord_settings), timeout=30) == 1
    assert "Discord rejected DISCORD_TOKEN" in caplog.text


async def test_cubby_discord_runs_until_sigterm_then_stops_cleanly_and_never_logs_payloads(
    fake_discord: FakeDiscord, discord_settings: Settings, discord_log_level: logging.Logger
) -> None:
    running = asyncio.create_task(run(discord_settings))
    await asyncio.wait_for(fake_discord.identified.wait(), timeout=30)  # the handler is in place by then

    os.kill(os.getpid(), signal.SIGTERM)

    assert await asyncio.wait_for(running, timeout=30) == 0
    # discord.py's DEBUG logs quote whole payloads, memory text included.
    assert not discord_log_level.isEnabledFor(logging.DEBUG)


async def test_stopping_turns_new_work_away_and_finishes_the_work_already_taken(
    cubby: DiscordSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    taken, release = asyncio.Event(), asyncio.Event()
    recall = commands.recall

    async def held_recall(*args: object, **kwargs: object) -> commands.Recalled:
        taken.set()
        await release.wait()
        return await recall(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(commands, "recall", held_recall)
    first = await cubby.slash(ALICE, "recall")
    await asyncio.wait_for(taken.wait(), timeout=10)

    stopping = asyncio.create_task(cubby.bot.shut_down(drain_seconds=30))
    late = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="I am late"))
    assert late.content == SHUTTING_DOWN and late.flags & EPHEMERAL
    assert not stopping.done()  # still draining the /recall taken before

    release.set()
    await asyncio.wait_for(stopping, timeout=30)
    answered = [r.content for r in cubby.fake.requests if first.token in r.path or first.id in r.path]
    assert any("I am vegetarian" in text for text in answered)
    assert cubby.bot.is_closed()
    assert [r.text for r in await cubby.memory(ALICE).get_all()] == ["I am vegetarian"]

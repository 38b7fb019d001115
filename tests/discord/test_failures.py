"""When things go wrong: a short private apology, a log line naming only the error type, and a bot
that keeps running."""

from __future__ import annotations

import logging

import pytest

from tests.loopback.discord_harness import ALICE, BOB, CHANNEL_ID, EPHEMERAL, DiscordSession

SECRET = "My locker code is 4512"
APOLOGY_STORE_DOWN = "Sorry, something went wrong on my side and nothing was changed. Please try again."
APOLOGY = "Sorry, something went wrong. Please try again."


async def test_when_the_memory_store_is_down_commands_get_a_private_apology_and_the_bot_keeps_running(
    cubby: DiscordSession,
) -> None:
    await cubby.hub.close()

    for command, options in (("remember", {"text": SECRET}), ("recall", {}), ("export", {}), ("forget", {})):
        reply = await cubby.reply_to(await cubby.slash(ALICE, command, **options))
        assert reply.body["type"] == 4 and reply.flags & EPHEMERAL
        assert reply.content == APOLOGY_STORE_DOWN
    assert not cubby.bot.is_closed()


async def test_when_the_memory_store_is_down_a_message_gets_a_short_apology(cubby: DiscordSession) -> None:
    await cubby.hub.close()
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "what is my locker code?", in_dm=True)
    [reply] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)

    assert reply.content == APOLOGY_STORE_DOWN


async def test_a_malformed_command_payload_gets_an_apology_and_is_logged_by_type_only(
    cubby: DiscordSession, caplog: pytest.LogCaptureFixture
) -> None:
    await cubby.memory(ALICE).add(SECRET)

    reply = await cubby.reply_to(await cubby.slash(ALICE, "recall", page="two"))  # a string for an integer

    assert reply.flags & EPHEMERAL and reply.content == APOLOGY
    [logged] = [r for r in caplog.records if r.name == "bots.discord.boundary"]
    assert logged.levelno == logging.ERROR and logged.getMessage() == "/recall failed: TypeError"
    assert logged.exc_info is None
    # ...and the next command is served as usual.
    reply = await cubby.reply_to(await cubby.slash(ALICE, "recall", query="locker"))
    assert SECRET in reply.content


async def test_an_unknown_command_gets_an_apology(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "launch-rockets"))

    assert reply.flags & EPHEMERAL and reply.content == APOLOGY


async def test_no_log_record_at_info_or_above_and_none_from_cubby_at_all_holds_memory_text(
    cubby: DiscordSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await cubby.reply_to(await cubby.slash(ALICE, "remember", text=SECRET))
    await cubby.reply_to(await cubby.slash(ALICE, "recall", query="locker code"))
    await cubby.reply_to(
        await cubby.slash(BOB, "forget", memory="locker code")
    )  # Bob has none: nothing to find
    question = await cubby.reply_to(await cubby.slash(ALICE, "forget", memory="locker code"))
    await cubby.reply_to(await cubby.press(BOB, question.message_id, question.custom_ids[0]))
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what is my locker code?", mention_bot=True)
    await cubby.messages_in(CHANNEL_ID, after=mark)
    await cubby.reply_to(await cubby.slash(ALICE, "recall", page="two"))
    await cubby.reply_to(await cubby.press(ALICE, question.message_id, question.custom_ids[0]))
    await cubby.hub.close()
    await cubby.reply_to(await cubby.slash(ALICE, "remember", text=SECRET))

    checked = [r for r in caplog.records if r.levelno >= logging.INFO or r.name.startswith(("bots", "core"))]
    assert any(r.name.startswith("bots.discord") for r in checked)
    assert not [r.getMessage() for r in checked if "4512" in r.getMessage() or r.exc_info]

"""The "Remember this" message command through the real discord.py client, with interactions shaped as
Discord sends them (the target message in ``resolved``): saved under the invoker's key with where it
came from, answered ephemerally with an Undo button that keeps working after a restart and only ever
touches the presser's own memory; messages Cubby cannot keep get a clear reply and store nothing."""

from __future__ import annotations

import pytest

from tests.loopback.discord_gateway import Recorded
from tests.loopback.discord_harness import (
    ALICE,
    BOB,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    DiscordSession,
    a_message,
)

from .conftest import StartCubby

UNKNOWN_GUILD = "1200000000000000999"  # a server Cubby is not a member of


def undo_id(reply: Recorded) -> str:
    [custom_id] = reply.custom_ids
    return custom_id


async def test_someone_elses_message_is_saved_under_the_invoker_with_its_provenance(
    cubby: DiscordSession,
) -> None:
    target = a_message(BOB, "The offsite is in Lisbon on 12 March")

    reply = await cubby.reply_to(await cubby.message_command(ALICE, target))

    assert reply.body["type"] == 4 and reply.flags & EPHEMERAL
    assert reply.data["allowed_mentions"] == {"parse": []}
    assert reply.content.startswith("Got it - I'll remember this message: The offsite is in Lisbon")
    [record] = await cubby.memory(ALICE).get_all()
    assert record.text == "The offsite is in Lisbon on 12 March"
    source = record.source
    assert source is not None
    assert (source.platform, source.channel, source.how) == ("discord", CHANNEL_ID, "saved")
    assert source.permalink == f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{target['id']}"
    assert source.author == BOB.id
    assert await cubby.memory(BOB).count() == 0
    assert undo_id(reply) == f"cubby:undo:{record.id}"  # an action and an id, never the text


async def test_ones_own_message_names_no_author(cubby: DiscordSession) -> None:
    await cubby.reply_to(await cubby.message_command(ALICE, a_message(ALICE, "My badge number is 4471")))

    [record] = await cubby.memory(ALICE).get_all()
    assert record.source is not None and record.source.author is None


async def test_the_message_is_shown_literally_and_pings_nobody(cubby: DiscordSession) -> None:
    target = a_message(BOB, "@everyone **look** <@1200000000000000101>")

    reply = await cubby.reply_to(await cubby.message_command(ALICE, target))

    assert "@\u200beveryone \\*\\*look\\*\\* <@\u200b1200000000000000101>" in reply.content
    assert reply.data["allowed_mentions"] == {"parse": []}


async def test_undo_erases_the_saved_message_in_place(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.message_command(ALICE, a_message(BOB, "Parking: level -2")))

    click = await cubby.press(ALICE, reply.message_id, undo_id(reply))
    answer = await cubby.reply_to(click)

    assert answer.body["type"] == 7  # the confirmation is replaced
    assert answer.content == "Done - I erased 1 memory. Nothing of it is kept."
    assert answer.data["components"] == []
    assert await cubby.memory(ALICE).count() == 0


async def test_undo_pressed_by_someone_else_erases_nothing_of_the_savers(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.message_command(ALICE, a_message(BOB, "Door code 5512")))
    await cubby.memory(BOB).add("Bob's own note")

    answer = await cubby.reply_to(await cubby.press(BOB, reply.message_id, undo_id(reply)))

    assert "nothing to forget" in answer.content
    assert await cubby.memory(ALICE).count() == 1
    assert await cubby.memory(BOB).count() == 1


async def test_undo_still_works_after_a_restart(start_cubby: StartCubby) -> None:
    first = await start_cubby()
    reply = await first.reply_to(await first.message_command(ALICE, a_message(BOB, "Standup is at 9:30")))
    await first.bot.close()

    again = await start_cubby()  # a new process' bot, the same data dir, the same fake Discord
    answer = await again.reply_to(await again.press(ALICE, reply.message_id, undo_id(reply)))

    assert answer.body["type"] == 7
    assert answer.content == "Done - I erased 1 memory. Nothing of it is kept."
    assert await again.memory(ALICE).count() == 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"content": ""}, "has no text I could remember"),
        ({"content": "  \n "}, "has no text I could remember"),
        (
            {
                "content": "",
                "attachments": [
                    {
                        "id": "1200000000000000500",
                        "filename": "whiteboard.png",
                        "size": 1234,
                        "url": "https://cdn.example/whiteboard.png",
                        "proxy_url": "https://media.example/whiteboard.png",
                    }
                ],
            },
            "only files or attachments",
        ),
        ({"content": "", "embeds": [{"type": "rich", "title": "Q3 chart"}]}, "only files or attachments"),
        ({"content": "x" * 2500}, "too long to remember (2,500 characters; the limit is 2,000)"),
    ],
    ids=["empty", "blank", "only-an-attachment", "only-an-embed", "over-the-limit"],
)
async def test_a_message_cubby_cannot_keep_gets_a_clear_reply_and_stores_nothing(
    cubby: DiscordSession, fields: dict, problem: str
) -> None:
    content = fields.pop("content")
    reply = await cubby.reply_to(await cubby.message_command(ALICE, a_message(BOB, content, **fields)))

    assert reply.flags & EPHEMERAL
    assert problem in reply.content
    assert reply.custom_ids == []
    assert await cubby.memory(ALICE).count() == 0


async def test_in_a_dm_the_source_says_dm(cubby: DiscordSession) -> None:
    target = a_message(ALICE, "Call the dentist", channel_id=ALICE.dm_channel_id)

    reply = await cubby.reply_to(await cubby.message_command(ALICE, target, in_dm=True))

    assert reply.flags & EPHEMERAL
    [record] = await cubby.memory(ALICE).get_all()
    assert record.source is not None and record.source.channel == "dm"
    assert record.source.permalink == f"https://discord.com/channels/@me/{ALICE.dm_channel_id}/{target['id']}"


async def test_a_user_install_in_a_server_cubby_is_not_in_answers_privately_under_the_persons_key(
    cubby: DiscordSession,
) -> None:
    assert cubby.bot.get_guild(int(UNKNOWN_GUILD)) is None
    target = a_message(BOB, "The venue is Hall B")

    sent = await cubby.message_command(ALICE, target, guild_id=UNKNOWN_GUILD, user_install=True)
    reply = await cubby.reply_to(sent)

    assert reply.path == f"/interactions/{sent.id}/{sent.token}/callback"
    assert reply.flags & EPHEMERAL
    [record] = await cubby.memory(ALICE).get_all()
    assert record.text == "The venue is Hall B"
    assert record.source is not None
    assert (
        record.source.permalink == f"https://discord.com/channels/{UNKNOWN_GUILD}/{CHANNEL_ID}/{target['id']}"
    )
    assert await cubby.memory(BOB).count() == 0


async def test_slash_commands_of_a_user_install_in_a_server_cubby_is_not_in_stay_private(
    cubby: DiscordSession,
) -> None:
    remembered = await cubby.reply_to(
        await cubby.slash(ALICE, "remember", user_install_in=UNKNOWN_GUILD, text="I take the 8:10 train")
    )
    recalled = await cubby.reply_to(await cubby.slash(ALICE, "recall", user_install_in=UNKNOWN_GUILD))

    assert remembered.flags & EPHEMERAL and recalled.flags & EPHEMERAL
    assert "I take the 8:10 train" in recalled.content
    assert [r.text for r in await cubby.memory(ALICE).get_all()] == ["I take the 8:10 train"]

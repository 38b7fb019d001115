"""/remember, /recall and /export as a person uses them, checked on the wire: every answer is an
ephemeral interaction response that can ping nobody, and the memory behind it is the real one."""

from __future__ import annotations

import json

from bots.discord.respond import Timing
from tests.loopback.discord_harness import ALICE, EPHEMERAL, DiscordSession

from .conftest import StartCubby


async def test_remember_stores_the_text_and_answers_privately(cubby: DiscordSession) -> None:
    sent = await cubby.slash(ALICE, "remember", text="I am vegetarian")
    reply = await cubby.reply_to(sent)

    assert reply.method == "POST" and reply.path == f"/interactions/{sent.id}/{sent.token}/callback"
    assert reply.body["type"] == 4  # a message, straight away
    assert reply.flags & EPHEMERAL
    assert reply.data["allowed_mentions"] == {"parse": []}
    assert reply.content == "Got it - I'll remember: I am vegetarian"
    stored = await cubby.memory(ALICE).get_all()
    assert [record.text for record in stored] == ["I am vegetarian"]
    assert stored[0].source is not None and stored[0].source.platform == "discord"


async def test_remember_in_a_dm_records_the_dm_as_its_source(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="I like tea", in_dm=True))

    assert reply.flags & EPHEMERAL
    [stored] = await cubby.memory(ALICE).get_all()
    assert stored.source is not None and stored.source.channel == "dm"


async def test_remember_of_blank_text_explains_and_stores_nothing(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="   "))

    assert reply.flags & EPHEMERAL
    assert (
        reply.content
        == "Sorry, I can't do that: there is nothing to remember - add the text after the command."
    )
    assert await cubby.memory(ALICE).count() == 0


async def test_remember_of_text_over_the_limit_explains_and_stores_nothing(cubby: DiscordSession) -> None:
    # Discord's client enforces the schema's max_length; a forged payload still meets the core's limit.
    reply = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="x" * 2500))

    assert reply.flags & EPHEMERAL
    assert "too long" in reply.content
    assert await cubby.memory(ALICE).count() == 0


async def test_remember_of_control_characters_explains_and_stores_nothing(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="bell \x07 here"))

    assert "control characters" in reply.content
    assert await cubby.memory(ALICE).count() == 0


async def test_a_memory_full_of_markup_and_mentions_is_shown_literally_and_pings_nobody(
    cubby: DiscordSession,
) -> None:
    text = "**ping** @everyone <@1200000000000000102> ||secret||"
    reply = await cubby.reply_to(await cubby.slash(ALICE, "remember", text=text))

    assert reply.content == (
        "Got it - I'll remember: \\*\\*ping\\*\\* @\u200beveryone <@\u200b1200000000000000102> "
        "\\|\\|secret\\|\\|"
    )
    assert reply.data["allowed_mentions"] == {"parse": []}
    assert [r.text for r in await cubby.memory(ALICE).get_all()] == [text]


async def test_recall_with_words_finds_the_matching_memory(cubby: DiscordSession) -> None:
    for text in ("I am vegetarian", "My flight to Oslo leaves on Friday"):
        await cubby.memory(ALICE).add(text)

    reply = await cubby.reply_to(await cubby.slash(ALICE, "recall", query="what food do I eat"))

    assert reply.flags & EPHEMERAL
    assert reply.content.startswith('What I remember about "what food do I eat":\n- I am vegetarian')


async def test_recall_without_words_lists_everything_and_pages(cubby: DiscordSession) -> None:
    for number in range(12):
        await cubby.memory(ALICE).add(f"fact number {number}")

    first = await cubby.reply_to(await cubby.slash(ALICE, "recall"))
    second = await cubby.reply_to(await cubby.slash(ALICE, "recall", page=2))

    assert first.content.startswith("Everything I remember about you (12, page 1 of 2):")
    assert "fact number 0" in first.content and "fact number 10" not in first.content
    assert second.content.startswith("Everything I remember about you (12, page 2 of 2):")
    assert "fact number 11" in second.content


async def test_recall_with_nothing_stored_says_so(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "recall"))

    assert reply.content == "I don't remember anything about you yet. Try /remember."


async def test_a_recall_longer_than_one_message_arrives_as_ephemeral_followups_within_the_limit(
    cubby: DiscordSession,
) -> None:
    for number in range(3):
        await cubby.memory(ALICE).add(f"long memory {number}: " + "word " * 380)

    sent = await cubby.slash(ALICE, "recall")
    callback, *followups = await cubby.replies_to(sent, count=4)

    assert callback.body["type"] == 4 and callback.flags & EPHEMERAL
    assert callback.content == "Everything I remember about you (3):"
    for number, followup in enumerate(followups):
        assert followup.path == f"/webhooks/{cubby.bot.application_id}/{sent.token}"
        assert followup.flags & EPHEMERAL and followup.data["allowed_mentions"] == {"parse": []}
        assert followup.content.startswith(f"- long memory {number}: word word")
        assert len(followup.content) <= 2000


async def test_export_sends_every_memory_as_an_ephemeral_json_attachment(cubby: DiscordSession) -> None:
    for text in ("I am vegetarian", "I like window seats"):
        await cubby.memory(ALICE).add(text)

    reply = await cubby.reply_to(await cubby.slash(ALICE, "export"))

    assert reply.body["type"] == 4 and reply.flags & EPHEMERAL
    assert reply.content == "Here are all 2 memories I keep for you."
    [(filename, content)] = reply.files.items()
    assert filename.startswith("cubby-memories-") and filename.endswith(".json")
    document = json.loads(content)
    assert document["user"] == f"discord:{ALICE.id}"
    assert sorted(memory["text"] for memory in document["memories"]) == [
        "I am vegetarian",
        "I like window seats",
    ]
    assert reply.data["attachments"][0]["filename"] == filename


async def test_slow_work_is_deferred_privately_and_answered_by_followup(start_cubby: StartCubby) -> None:
    cubby = await start_cubby(timing=Timing(defer_after=0))

    sent = await cubby.slash(ALICE, "remember", text="I am vegetarian")
    deferral, followup = await cubby.replies_to(sent, count=2)

    assert deferral.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert followup.method == "POST" and followup.path == f"/webhooks/{cubby.bot.application_id}/{sent.token}"
    assert followup.flags & EPHEMERAL
    assert followup.content == "Got it - I'll remember: I am vegetarian"

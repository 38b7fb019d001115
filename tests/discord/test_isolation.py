"""Two people in the same server never see, find, export or erase each other's memories through any
path the Discord adapter offers."""

from __future__ import annotations

import json

from tests.loopback.discord_harness import ALICE, BOB, CHANNEL_ID, DiscordSession

ALICE_SECRET = "My locker code is 4512"
BOB_SECRET = "My bike lock code is 9087"


async def remember_both(cubby: DiscordSession) -> None:
    for person, text in ((ALICE, ALICE_SECRET), (BOB, BOB_SECRET)):
        reply = await cubby.reply_to(await cubby.slash(person, "remember", text=text))
        assert reply.content == f"Got it - I'll remember: {text}"


def everything_sent_to(cubby: DiscordSession, marks: tuple[int, int]) -> str:
    sent = cubby.fake.requests[marks[0] : marks[1]]
    bodies = [json.dumps(r.body) for r in sent] + [
        content.decode() for r in sent for content in r.files.values()
    ]
    return "\n".join(bodies)


async def test_recall_search_and_list_show_only_your_own_memories(cubby: DiscordSession) -> None:
    await remember_both(cubby)

    searched = await cubby.reply_to(await cubby.slash(BOB, "recall", query="locker code"))
    listed = await cubby.reply_to(await cubby.slash(BOB, "recall"))

    assert "4512" not in searched.content and "4512" not in listed.content
    assert listed.content.startswith(f"Everything I remember about you (1):\n- {BOB_SECRET}")
    mine = await cubby.reply_to(await cubby.slash(ALICE, "recall", query="locker code"))
    assert ALICE_SECRET in mine.content and "9087" not in mine.content


async def test_export_holds_only_your_own_memories(cubby: DiscordSession) -> None:
    await remember_both(cubby)

    reply = await cubby.reply_to(await cubby.slash(BOB, "export"))

    [content] = reply.files.values()
    document = json.loads(content)
    assert document["user"] == f"discord:{BOB.id}"
    assert [memory["text"] for memory in document["memories"]] == [BOB_SECRET]


async def test_forget_everything_erases_only_your_own_memories(cubby: DiscordSession) -> None:
    await remember_both(cubby)

    question = await cubby.reply_to(await cubby.slash(BOB, "forget"))
    assert question.content == "Forget everything? This erases all 1 memory I keep for you, for good."
    [confirm, _] = question.custom_ids
    await cubby.reply_to(await cubby.press(BOB, question.message_id, confirm))

    assert await cubby.memory(BOB).count() == 0
    assert [r.text for r in await cubby.memory(ALICE).get_all()] == [ALICE_SECRET]


async def test_forget_with_someone_elses_memory_id_finds_nothing_and_erases_nothing(
    cubby: DiscordSession,
) -> None:
    [alices] = await cubby.memory(ALICE).add(ALICE_SECRET)

    reply = await cubby.reply_to(await cubby.slash(BOB, "forget", memory=alices.id))

    assert reply.content == "I found nothing to forget."
    assert not reply.data.get("components")
    assert await cubby.memory(ALICE).count() == 1


async def test_a_forged_menu_choice_of_someone_elses_memory_erases_nothing(cubby: DiscordSession) -> None:
    for text in ("I drink green tea", "I drink black tea"):
        await cubby.memory(BOB).add(text)
    await cubby.memory(ALICE).add("I drink tea every morning")
    [alices] = await cubby.memory(ALICE).get_all()

    question = await cubby.reply_to(await cubby.slash(BOB, "forget", memory="tea"))
    [menu_id] = [custom_id for custom_id in question.custom_ids if ":choose:" in custom_id]
    answer = await cubby.reply_to(await cubby.press(BOB, question.message_id, menu_id, values=[alices.id]))

    assert answer.content == "There was nothing to forget (it may already be gone)."
    assert await cubby.memory(ALICE).count() == 1 and await cubby.memory(BOB).count() == 2


async def test_someone_else_cannot_use_your_forget_menu(cubby: DiscordSession) -> None:
    for text in ("I drink green tea", "I drink black tea"):
        await cubby.memory(ALICE).add(text)
    question = await cubby.reply_to(await cubby.slash(ALICE, "forget", memory="tea"))
    [menu_id] = [custom_id for custom_id in question.custom_ids if ":choose:" in custom_id]
    [first, *_] = await cubby.memory(ALICE).get_all()

    refusal = await cubby.reply_to(await cubby.press(BOB, question.message_id, menu_id, values=[first.id]))

    assert refusal.content == "Only the person who asked can use these buttons."
    assert await cubby.memory(ALICE).count() == 2


async def test_a_mention_answers_only_from_the_mentioners_memories(cubby: DiscordSession) -> None:
    await remember_both(cubby)
    mark = cubby.fake.mark()

    await cubby.say(BOB, "what is my locker code?", mention_bot=True)
    await cubby.messages_in(CHANNEL_ID, after=mark)

    sent = everything_sent_to(cubby, (mark, cubby.fake.mark()))
    assert "4512" not in sent


async def test_nothing_cubby_sends_bob_anywhere_contains_alices_memory(cubby: DiscordSession) -> None:
    await cubby.reply_to(await cubby.slash(ALICE, "remember", text=ALICE_SECRET))
    mark = cubby.fake.mark()

    for command, options in (("recall", {}), ("recall", {"query": "locker"}), ("export", {}), ("forget", {})):
        await cubby.reply_to(await cubby.slash(BOB, command, **options))
    await cubby.say(BOB, "locker code", in_dm=True)
    await cubby.messages_in(BOB.dm_channel_id, after=mark)

    assert "4512" not in everything_sent_to(cubby, (mark, cubby.fake.mark()))

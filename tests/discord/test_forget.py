"""/forget: a private question with danger and cancel buttons (or a menu), that only the person who
asked can answer, that erases for real, and that closes itself when nobody answers."""

from __future__ import annotations

from dataclasses import replace

from bots.discord.respond import Timing
from tests.loopback.discord_gateway import Recorded
from tests.loopback.discord_harness import ALICE, BOB, EPHEMERAL, DiscordSession

from .conftest import DIRECT_TIMING, StartCubby


def buttons(reply: Recorded) -> dict[str, dict]:
    return {c["label"]: c for row in reply.data["components"] for c in row["components"] if c["type"] == 2}


async def test_forget_asks_privately_with_a_danger_and_a_cancel_button(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")

    question = await cubby.reply_to(await cubby.slash(ALICE, "forget"))

    assert question.body["type"] == 4 and question.flags & EPHEMERAL
    assert question.content == "Forget everything? This erases all 1 memory I keep for you, for good."
    shown = buttons(question)
    assert shown["Forget"]["style"] == 4  # danger
    assert shown["Cancel"]["style"] == 2  # secondary
    assert shown["Forget"]["custom_id"].startswith("cubby:forget:confirm:")
    assert shown["Cancel"]["custom_id"].startswith("cubby:forget:cancel:")
    assert ALICE.id not in "".join(question.custom_ids)  # the buttons carry no user and no memory
    assert await cubby.memory(ALICE).count() == 1  # nothing is erased before the answer


async def test_confirming_forget_erases_everything_and_updates_the_question(cubby: DiscordSession) -> None:
    for text in ("I am vegetarian", "I like window seats"):
        await cubby.memory(ALICE).add(text)
    question = await cubby.reply_to(await cubby.slash(ALICE, "forget"))

    click = await cubby.press(ALICE, question.message_id, buttons(question)["Forget"]["custom_id"])
    answer = await cubby.reply_to(click)

    assert answer.path == f"/interactions/{click.id}/{click.token}/callback"
    assert answer.body["type"] == 7  # the question message is updated in place
    assert answer.content == "Done - I erased 2 memories. Nothing of them is kept."
    assert answer.data["components"] == []
    assert await cubby.memory(ALICE).count() == 0


async def test_cancelling_forget_keeps_everything(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    question = await cubby.reply_to(await cubby.slash(ALICE, "forget"))

    answer = await cubby.reply_to(
        await cubby.press(ALICE, question.message_id, buttons(question)["Cancel"]["custom_id"])
    )

    assert answer.body["type"] == 7
    assert answer.content == "Okay, I kept everything."
    assert answer.data["components"] == []
    assert await cubby.memory(ALICE).count() == 1


async def test_only_the_person_who_asked_can_confirm_forget(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    await cubby.memory(BOB).add("I like window seats")
    question = await cubby.reply_to(await cubby.slash(ALICE, "forget"))
    confirm = buttons(question)["Forget"]["custom_id"]

    refusal = await cubby.reply_to(await cubby.press(BOB, question.message_id, confirm))

    assert refusal.body["type"] == 4 and refusal.flags & EPHEMERAL
    assert refusal.content == "Only the person who asked can use these buttons."
    assert await cubby.memory(ALICE).count() == 1
    assert await cubby.memory(BOB).count() == 1

    # The question is still live for its owner after the refusal.
    answer = await cubby.reply_to(await cubby.press(ALICE, question.message_id, confirm))
    assert answer.body["type"] == 7 and answer.content.startswith("Done - I erased 1 memory")
    assert await cubby.memory(ALICE).count() == 0
    assert [r.text for r in await cubby.memory(BOB).get_all()] == ["I like window seats"]


async def test_forget_by_id_erases_just_that_memory_after_confirmation(cubby: DiscordSession) -> None:
    [kept] = await cubby.memory(ALICE).add("I am vegetarian")
    [doomed] = await cubby.memory(ALICE).add("My locker code is 4512")

    question = await cubby.reply_to(await cubby.slash(ALICE, "forget", memory=doomed.id))
    assert question.content.startswith("Forget this memory for good?\n- My locker code is 4512")
    answer = await cubby.reply_to(
        await cubby.press(ALICE, question.message_id, buttons(question)["Forget"]["custom_id"])
    )

    assert answer.content == "Done - I erased 1 memory. Nothing of it is kept."
    assert [r.id for r in await cubby.memory(ALICE).get_all()] == [kept.id]


async def test_forget_by_words_offers_a_menu_and_erases_the_chosen_memory(cubby: DiscordSession) -> None:
    records = {}
    for text in ("I drink green tea", "I drink black tea with milk", "My cat is called Tea Cake"):
        [records[text]] = await cubby.memory(ALICE).add(text)

    question = await cubby.reply_to(await cubby.slash(ALICE, "forget", memory="tea"))
    assert question.content.startswith("Which one should I forget?\n1. ")
    [menu] = [c for row in question.data["components"] for c in row["components"] if c["type"] == 3]
    offered = {option["value"] for option in menu["options"]}
    assert offered <= {record.id for record in records.values()} and len(offered) >= 2

    chosen = records["I drink green tea"].id
    assert chosen in offered
    answer = await cubby.reply_to(
        await cubby.press(ALICE, question.message_id, menu["custom_id"], values=[chosen])
    )

    assert answer.body["type"] == 7
    assert answer.content == "Done - I erased 1 memory. Nothing of it is kept."
    remaining = {r.text for r in await cubby.memory(ALICE).get_all()}
    assert remaining == {"I drink black tea with milk", "My cat is called Tea Cake"}


async def test_forget_with_nothing_stored_says_so_without_buttons(cubby: DiscordSession) -> None:
    reply = await cubby.reply_to(await cubby.slash(ALICE, "forget"))

    assert reply.flags & EPHEMERAL
    assert reply.content == "I found nothing to forget."
    assert not reply.data.get("components")


async def test_an_unanswered_forget_question_expires_cleanly(start_cubby: StartCubby) -> None:
    cubby = await start_cubby(timing=replace(DIRECT_TIMING, question_timeout=0.2))
    await cubby.memory(ALICE).add("I am vegetarian")

    sent = await cubby.slash(ALICE, "forget")
    question, expiry = await cubby.replies_to(sent, count=2)

    assert expiry.method == "PATCH"
    assert expiry.path == f"/webhooks/{cubby.bot.application_id}/{sent.token}/messages/@original"
    assert expiry.content.startswith("Nothing was forgotten: that question expired.")
    assert expiry.data["components"] == []
    assert expiry.data["allowed_mentions"] == {"parse": []}
    # A late press on the expired question reaches nothing and erases nothing. Events are handled in
    # order, so once a later command is answered the press has been dealt with.
    late = await cubby.press(ALICE, question.message_id, buttons(question)["Forget"]["custom_id"])
    await cubby.reply_to(await cubby.slash(ALICE, "recall"))
    assert not [r for r in cubby.fake.requests if late.token in r.path]
    assert await cubby.memory(ALICE).count() == 1


async def test_a_slow_forget_is_deferred_at_each_step_and_still_completes(start_cubby: StartCubby) -> None:
    cubby = await start_cubby(timing=Timing(defer_after=0))
    await cubby.memory(ALICE).add("I am vegetarian")

    sent = await cubby.slash(ALICE, "forget")
    deferral, question = await cubby.replies_to(sent, count=2)
    assert deferral.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert (
        question.path == f"/webhooks/{cubby.bot.application_id}/{sent.token}" and question.flags & EPHEMERAL
    )

    click = await cubby.press(ALICE, question.message_id, buttons(question)["Forget"]["custom_id"])
    update_deferral, edit = await cubby.replies_to(click, count=2)

    assert update_deferral.body == {"type": 6}  # acknowledged; the message will be edited
    assert edit.method == "PATCH"
    assert edit.path == f"/webhooks/{cubby.bot.application_id}/{click.token}/messages/@original"
    assert edit.content == "Done - I erased 1 memory. Nothing of it is kept."
    assert edit.data["components"] == []
    assert await cubby.memory(ALICE).count() == 0

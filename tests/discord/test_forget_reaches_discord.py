"""/forget also deletes the DM answers Cubby sent that quoted the forgotten memories, through the real
discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio

from core import PostRef
from tests.loopback.discord_gateway import Recorded
from tests.loopback.discord_harness import ALICE, BOB, CHANNEL_ID, DiscordSession, Person


def buttons(reply: Recorded) -> dict[str, dict]:
    return {c["label"]: c for row in reply.data["components"] for c in row["components"] if c["type"] == 2}


async def recorded_posts(cubby: DiscordSession, person: Person, count: int) -> list[PostRef]:
    """The person's post references once Cubby has recorded ``count`` of them (it does so right
    after sending, in the message handler's own task)."""
    for _ in range(200):
        posts = await cubby.memory(person).posts()
        if len(posts) >= count:
            return posts
        await asyncio.sleep(0.01)
    raise AssertionError(f"Cubby recorded {len(posts)} posts, not {count}")


def deleted(cubby: DiscordSession) -> set[tuple[str, str]]:
    found = set()
    for request in cubby.fake.requests:
        parts = request.path.strip("/").split("/")
        if request.method == "DELETE" and len(parts) == 4 and parts[2] == "messages":
            found.add((parts[1], parts[3]))
    return found


async def confirm_forget(cubby: DiscordSession, person: Person, memory: str | None = None) -> Recorded:
    options = {"memory": memory} if memory else {}
    question = await cubby.reply_to(await cubby.slash(person, "forget", **options))
    return await cubby.reply_to(
        await cubby.press(person, question.message_id, buttons(question)["Forget"]["custom_id"])
    )


async def test_forget_everything_deletes_every_dm_answer_that_quoted_memories(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    await cubby.memory(ALICE).add("My locker code is 4512")
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what food do I like?", in_dm=True)
    await cubby.say(ALICE, "what is my locker code?", mention_bot=True)  # answered by DM
    answers = await cubby.messages_in(ALICE.dm_channel_id, after=mark, count=2)
    await recorded_posts(cubby, ALICE, 2)
    sent = {(ALICE.dm_channel_id, answer.message_id) for answer in answers}
    assert all("vegetarian" in a.content or "4512" in a.content for a in answers)

    done = await confirm_forget(cubby, ALICE)

    assert sent <= deleted(cubby) and not sent & cubby.fake.messages
    assert "erased 2 memories" in done.content and "I also deleted the 2 messages and files" in done.content
    assert await cubby.memory(ALICE).count() == 0 and await cubby.memory(ALICE).posts() == []


async def test_forgetting_one_memory_deletes_only_the_answers_that_quoted_it(cubby: DiscordSession) -> None:
    [food] = await cubby.memory(ALICE).add("I am vegetarian")
    await cubby.memory(ALICE).add("My locker code is 4512")
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what is my locker code?", in_dm=True)
    [locker_answer] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)
    await recorded_posts(cubby, ALICE, 1)
    assert "vegetarian" not in locker_answer.content

    done = await confirm_forget(cubby, ALICE, food.id)

    assert "erased 1 memory" in done.content
    assert (ALICE.dm_channel_id, locker_answer.message_id) not in deleted(cubby)
    assert len(await cubby.memory(ALICE).posts()) == 1


async def test_discords_rate_limit_is_waited_out_and_the_answer_still_deleted(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what food do I like?", in_dm=True)
    [answer] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)
    await recorded_posts(cubby, ALICE, 1)
    cubby.fake.rate_limited_deletes = 1

    done = await confirm_forget(cubby, ALICE)

    assert (ALICE.dm_channel_id, answer.message_id) not in cubby.fake.messages
    assert "I also deleted the 1 message or file" in done.content


async def test_answers_in_the_channel_and_without_memories_are_not_recorded(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what is the capital of Peru?", mention_bot=True)  # reveals nothing
    await cubby.messages_in(CHANNEL_ID, after=mark)

    assert await cubby.memory(ALICE).posts() == []
    done = await confirm_forget(cubby, ALICE)
    assert "I also deleted" not in done.content and deleted(cubby) == set()


async def test_someone_elses_forget_deletes_none_of_alices_answers(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    await cubby.memory(BOB).add("I like window seats")
    mark = cubby.fake.mark()
    await cubby.say(ALICE, "what food do I like?", in_dm=True)
    await cubby.messages_in(ALICE.dm_channel_id, after=mark)
    await recorded_posts(cubby, ALICE, 1)

    await confirm_forget(cubby, BOB)

    assert deleted(cubby) == set() and len(await cubby.memory(ALICE).posts()) == 1

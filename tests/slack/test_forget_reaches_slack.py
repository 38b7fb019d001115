"""/forget also deletes what Cubby posted on Slack with the person's memory text: DM answers that
quoted memories and export files in the DM. Ephemeral replies are not kept by Slack and need nothing."""

from __future__ import annotations

import time

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_harness import SlackHarness, text_of

from .conftest import ALICE, BOB


def alice(hub: Hub):
    return hub.scoped(UserKey.slack(ALICE.team, ALICE.user))


def dm_posts_quoting(slack: SlackHarness, text: str) -> list[tuple[str, str]]:
    """(channel, ts) of each DM message Cubby posted that contains ``text``."""
    return [
        (call.params["channel"], call.answer["ts"])
        for call in slack.fake.calls_to("chat.postMessage")
        if text in call.params.get("text", "") and call.answer
    ]


def deleted_messages(slack: SlackHarness) -> set[tuple[str, str]]:
    return {(c.params["channel"], c.params["ts"]) for c in slack.fake.calls_to("chat.delete") if c.answer}


def deleted_files(slack: SlackHarness) -> set[str]:
    return {c.params["file"] for c in slack.fake.calls_to("files.delete") if c.answer}


def uploaded_files(slack: SlackHarness) -> set[str]:
    return {f["id"] for c in slack.fake.calls_to("files.completeUploadExternal") for f in c.params["files"]}


async def forget_everything(slack: SlackHarness, person=ALICE) -> dict:
    question = await slack.command(person, "/forget")
    return await slack.click(person, question, blocks.FORGET, blocks.EVERYTHING)


async def test_forget_everything_deletes_every_dm_answer_and_export_file_with_the_memories(
    slack: SlackHarness, hub: Hub
) -> None:
    await alice(hub).add("I always want a window seat")
    await alice(hub).add("I am vegetarian")
    await slack.dm(ALICE, "which seat do I like?")
    await slack.dm(ALICE, "what do I eat?")
    await slack.command(ALICE, "/cubby", "export")
    quoting = dm_posts_quoting(slack, "window seat") + dm_posts_quoting(slack, "vegetarian")
    assert len(set(quoting)) >= 2 and len(uploaded_files(slack)) == 1

    done = await forget_everything(slack)

    assert set(quoting) <= deleted_messages(slack)
    assert deleted_files(slack) == uploaded_files(slack)
    assert not {post for post in slack.fake.messages if post in set(quoting)} and not slack.fake.files
    assert "erased 2 memories" in text_of(done) and "I also deleted the" in text_of(done)
    assert await alice(hub).count() == 0 and await alice(hub).posts() == []


async def test_forgetting_one_memory_deletes_only_the_posts_that_quoted_it(
    slack: SlackHarness, hub: Hub
) -> None:
    [seat] = await alice(hub).add("I always want a window seat")
    await alice(hub).add("I am vegetarian")
    await slack.dm(ALICE, "which seat do I like?")
    await slack.dm(ALICE, "vegetarian food?")
    seat_posts = set(dm_posts_quoting(slack, "window seat"))
    food_only = set(dm_posts_quoting(slack, "vegetarian")) - seat_posts

    question = await slack.command(ALICE, "/forget", seat.id)
    done = await slack.click(ALICE, question, blocks.FORGET, seat.id)

    assert "erased 1 memory" in text_of(done)
    assert seat_posts and seat_posts <= deleted_messages(slack)
    assert food_only and not food_only & deleted_messages(slack)
    assert await alice(hub).count() == 1


async def test_the_home_tab_delete_and_forget_all_delete_the_posts_too(slack: SlackHarness, hub: Hub) -> None:
    [seat] = await alice(hub).add("I always want a window seat")
    await slack.dm(ALICE, "which seat do I like?")
    home = await slack.open_home(ALICE)

    after = await slack.click_home(ALICE, home, blocks.HOME_DELETE, seat.id)

    assert set(dm_posts_quoting(slack, "window seat")) <= deleted_messages(slack)
    assert "I also deleted the 1 message or file" in text_of(after)


async def test_slacks_rate_limit_is_waited_out_and_the_post_still_deleted(
    slack: SlackHarness, hub: Hub
) -> None:
    await alice(hub).add("I always want a window seat")
    await slack.dm(ALICE, "which seat do I like?")
    slack.fake.rate_limit("chat.delete", 1)

    started = time.monotonic()
    done = await forget_everything(slack)

    attempts = slack.fake.calls_to("chat.delete")
    assert len(attempts) == 2 and not attempts[0].answer and attempts[1].answer
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert "I also deleted the 1 message or file" in text_of(done)


async def test_posts_slack_will_not_delete_are_named_in_the_reply_and_the_memories_still_go(
    slack: SlackHarness, hub: Hub
) -> None:
    await alice(hub).add("I always want a window seat")
    await slack.dm(ALICE, "which seat do I like?")
    await slack.command(ALICE, "/cubby", "export")
    slack.fake.fail("chat.delete", "cant_delete_message")

    done = await forget_everything(slack)

    assert "I could not delete this one: a message from" in text_of(done)
    assert "Slack no longer lets me delete it" in text_of(done)
    assert "I also deleted the 1 message or file" in text_of(done)  # the export file
    assert await alice(hub).count() == 0 and await alice(hub).posts() == []


async def test_a_post_already_gone_counts_as_removed(slack: SlackHarness, hub: Hub) -> None:
    await alice(hub).add("I always want a window seat")
    await slack.dm(ALICE, "which seat do I like?")
    slack.fake.messages.clear()  # deleted meanwhile, e.g. by a workspace admin

    done = await forget_everything(slack)

    assert "I also deleted the 1 message or file" in text_of(done) and "could not" not in text_of(done)


async def test_answers_without_memories_and_ephemeral_replies_leave_nothing_to_delete(
    slack: SlackHarness, hub: Hub
) -> None:
    await alice(hub).add("I always want a window seat")
    await slack.dm(ALICE, "what is the capital of Peru?")  # nothing relevant: no memory quoted
    await slack.mention(ALICE, "which seat do I like?")  # ephemeral
    await slack.command(ALICE, "/recall")  # ephemeral response_url reply

    assert await alice(hub).posts() == []
    done = await forget_everything(slack)
    assert "I also deleted" not in text_of(done) and slack.fake.calls_to("chat.delete") == []


async def test_someone_elses_forget_deletes_none_of_alices_posts(slack: SlackHarness, hub: Hub) -> None:
    await alice(hub).add("I always want a window seat")
    await hub.scoped(UserKey.slack(BOB.team, BOB.user)).add("I like jazz")
    await slack.dm(ALICE, "which seat do I like?")

    await forget_everything(slack, BOB)

    assert slack.fake.calls_to("chat.delete") == []
    assert len(await alice(hub).posts()) == 1


async def test_an_answer_still_being_posted_during_a_forget_is_deleted_once_it_lands(
    slack: SlackHarness, hub: Hub
) -> None:
    await alice(hub).add("I always want a window seat")
    release = slack.fake.hold("chat.postMessage")
    mark = len(slack.fake.calls)
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel_type": "im", "channel": ALICE.dm_channel, "user": ALICE.user}
    assert await slack.event(ALICE, event | {"text": "which seat do I like?", "ts": ts}) == 200
    await slack.fake.wait_for(lambda c: c.method == "chat.postMessage", after=mark)

    await forget_everything(slack)  # while the answer quoting the memory is on its way
    release.set()
    await slack.settle()

    [posted] = dm_posts_quoting(slack, "window seat")
    assert posted in deleted_messages(slack) and posted not in slack.fake.messages
    assert await alice(hub).posts() == []

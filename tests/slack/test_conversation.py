"""Conversation: a DM gets a threaded reply in the DM; a mention in a channel gets a reply only the
person can see (the help text alone is posted for everyone); bots, edits and repeated deliveries of an
event get nothing."""

from core import Hub, UserKey
from tests.loopback.slack_api import BOT_ID, BOT_USER
from tests.loopback.slack_harness import SlackHarness

from .conftest import ALICE, BOB


async def remember(hub: Hub, person, text: str) -> None:
    await hub.scoped(UserKey.slack(person.team, person.user)).add(text)


def dm_from(person, text: str, *, ts: str) -> dict:
    return {"type": "message", "channel_type": "im", "channel": person.dm_channel, "user": person.user} | {
        "text": text,
        "ts": ts,
    }


async def test_a_dm_gets_a_threaded_reply_drawn_from_the_persons_memories(
    slack: SlackHarness, hub: Hub
) -> None:
    await remember(hub, ALICE, "I always want a window seat")

    reply = await slack.dm(ALICE, "which plane seats do I like?")

    assert reply.params["channel"] == ALICE.dm_channel
    assert "I always want a window seat" in reply.params["text"]
    assert reply.token == f"xoxb-{ALICE.team}"


async def test_without_relevant_memories_the_reply_says_how_to_add_some(slack: SlackHarness) -> None:
    reply = await slack.dm(ALICE, "what is my favourite colour?")
    assert "/remember &lt;text&gt;" in reply.params["text"]


async def test_a_mention_in_a_channel_is_answered_only_to_the_person_in_the_thread(
    slack: SlackHarness, hub: Hub
) -> None:
    await remember(hub, ALICE, "I am vegetarian")

    reply = await slack.mention(ALICE, "any food I should avoid?", channel="C0LUNCH")

    assert reply.method == "chat.postEphemeral"
    assert reply.params["channel"] == "C0LUNCH" and reply.params["user"] == ALICE.user
    assert "I am vegetarian" in reply.params["text"]
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_a_mention_with_no_words_gets_the_help_in_the_thread_for_everyone(slack: SlackHarness) -> None:
    """The help text says nothing about anyone, so it is the one reply a channel may see."""
    reply = await slack.mention(ALICE, "", channel="C0LUNCH")
    assert reply.method == "chat.postMessage" and "/recall" in reply.params["text"]
    assert reply.params["channel"] == "C0LUNCH" and reply.params["thread_ts"]
    assert slack.fake.calls_to("chat.postEphemeral") == []


async def test_a_mention_cubby_knows_nothing_about_is_still_answered_only_to_the_person(
    slack: SlackHarness,
) -> None:
    reply = await slack.mention(ALICE, "what is my favourite colour?", channel="C0LUNCH")

    assert reply.method == "chat.postEphemeral" and reply.params["user"] == ALICE.user
    assert "/remember" in reply.params["text"]
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_bots_cubby_itself_and_message_edits_get_no_reply(slack: SlackHarness, hub: Hub) -> None:
    await remember(hub, ALICE, "I am vegetarian")
    dm = {"type": "message", "channel_type": "im", "channel": ALICE.dm_channel, "ts": "1.1"}
    ignored = [
        dm | {"user": "U0OTHERBOT", "bot_id": "B0OTHER", "text": "food?"},
        dm | {"user": BOT_USER, "bot_id": BOT_ID, "text": "food?"},
        dm | {"subtype": "message_changed", "message": {"user": ALICE.user, "text": "food?"}},
        {"type": "app_mention", "channel": "C1", "user": "U0OTHERBOT", "bot_id": "B0OTHER", "text": "food?"},
        {
            "type": "app_mention",
            "channel": ALICE.dm_channel,
            "user": ALICE.user,
            "text": f"<@{BOT_USER}> food",
        },
    ]
    for event in ignored:
        assert await slack.event(ALICE, {**event, "ts": "1.1"}) == 200

    await slack.dm(ALICE, "what food do I like?")  # a real message still gets its one answer
    await slack.settle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert slack.fake.calls_to("chat.postEphemeral") == []


async def test_a_retried_event_is_handled_once(slack: SlackHarness, hub: Hub) -> None:
    await remember(hub, ALICE, "I am vegetarian")

    first = await slack.dm(ALICE, "what food do I like?", event_id="Ev0RETRY")
    same_message = dm_from(ALICE, "what food do I like?", ts=first.params["thread_ts"])
    assert await slack.event(ALICE, same_message, event_id="Ev0RETRY", retry=1) == 200
    assert await slack.event(ALICE, same_message, event_id="Ev0RETRY", retry=2) == 200
    await slack.dm(BOB, "hello there")  # a different event is still handled

    await slack.settle()
    replies_in_alices_dm = [
        c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == ALICE.dm_channel
    ]
    assert len(replies_in_alices_dm) == 1


async def test_a_failed_reply_is_logged_and_the_bot_keeps_answering(slack: SlackHarness) -> None:
    slack.fake.fail("chat.postMessage", "channel_not_found")
    assert await slack.event(ALICE, dm_from(ALICE, "hello", ts="5.5")) == 200
    await slack.fake.wait_for(lambda c: c.method == "chat.postMessage")
    await slack.settle()

    del slack.fake.failures["chat.postMessage"]
    reply = await slack.dm(ALICE, "hello again")
    assert reply.params["channel"] == ALICE.dm_channel

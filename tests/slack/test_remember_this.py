"""The "Remember this" message shortcut through the real Bolt app, with ``message_action`` payloads as
Slack sends them: the message is saved under the invoker's key with where it came from, the
confirmation is ephemeral with an Undo that only ever touches the clicker's own memory, and a message
Cubby cannot keep gets a clear reply and stores nothing."""

import pytest

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_api import permalink
from tests.loopback.slack_harness import Person, SlackHarness, button, channel_message, text_of

from .conftest import ALICE, BOB


def memory_of(hub: Hub, person: Person):
    return hub.scoped(UserKey.slack(person.team, person.user))


async def test_someone_elses_message_is_saved_under_the_invoker_with_its_provenance(
    slack: SlackHarness, hub: Hub
) -> None:
    message = channel_message(BOB, "The offsite is in Lisbon on 12 March")

    reply = await slack.shortcut(ALICE, message, channel="C0PLANS")

    assert reply["response_type"] == "ephemeral"
    assert "I'll remember this message: The offsite is in Lisbon on 12 March" in text_of(reply)
    [record] = await memory_of(hub, ALICE).get_all()
    assert record.text == "The offsite is in Lisbon on 12 March"
    source = record.source
    assert source is not None
    assert (source.platform, source.channel, source.how) == ("slack", "C0PLANS", "saved")
    assert source.permalink == permalink("C0PLANS", message["ts"])
    assert source.author == BOB.user
    assert await memory_of(hub, BOB).count() == 0  # the author's memory is untouched
    [asked] = slack.fake.calls_to("chat.getPermalink")
    assert (asked.params["channel"], asked.params["message_ts"]) == ("C0PLANS", message["ts"])


async def test_ones_own_message_names_no_author(slack: SlackHarness, hub: Hub) -> None:
    await slack.shortcut(ALICE, channel_message(ALICE, "My badge number is 4471"))

    [record] = await memory_of(hub, ALICE).get_all()
    assert record.source is not None and record.source.author is None


async def test_a_bots_message_is_saved_with_the_bot_as_its_author(slack: SlackHarness, hub: Hub) -> None:
    await slack.shortcut(ALICE, channel_message(None, "Deploy window: Tuesdays 14:00 UTC"))

    [record] = await memory_of(hub, ALICE).get_all()
    assert record.source is not None and record.source.author == "B0OTHER"


async def test_the_message_is_shown_literally_and_can_ping_nobody(slack: SlackHarness) -> None:
    reply = await slack.shortcut(ALICE, channel_message(BOB, "<!channel> see <@U0BOB> & co"))

    assert "&lt;!channel&gt; see &lt;@U0BOB&gt; &amp; co" in text_of(reply)
    assert "<!channel>" not in text_of(reply)


async def test_undo_erases_the_saved_message(slack: SlackHarness, hub: Hub) -> None:
    reply = await slack.shortcut(ALICE, channel_message(BOB, "Parking is on level -2"))
    [record] = await memory_of(hub, ALICE).get_all()
    assert button(reply, blocks.UNDO_REMEMBER)["value"] == record.id  # the id only, never the text

    undone = await slack.click(ALICE, reply, blocks.UNDO_REMEMBER)

    assert undone["replace_original"] is True and undone["response_type"] == "ephemeral"
    assert "erased 1 memory" in text_of(undone)
    assert await memory_of(hub, ALICE).count() == 0


async def test_undo_pressed_by_someone_else_cannot_touch_the_savers_memory(
    slack: SlackHarness, hub: Hub
) -> None:
    reply = await slack.shortcut(ALICE, channel_message(BOB, "The door code is 5512"))
    await memory_of(hub, BOB).add("Bob's own note")

    undone = await slack.click(BOB, reply, blocks.UNDO_REMEMBER)

    assert "nothing to forget" in text_of(undone)
    assert await memory_of(hub, ALICE).count() == 1
    assert await memory_of(hub, BOB).count() == 1


async def test_a_crafted_undo_for_everything_erases_nothing(slack: SlackHarness, hub: Hub) -> None:
    await slack.shortcut(ALICE, channel_message(BOB, "Lunch is at noon"))
    crafted = {"type": "button", "action_id": blocks.UNDO_REMEMBER, "value": blocks.EVERYTHING}

    undone = await slack.click_button(ALICE, crafted)

    assert "nothing to forget" in text_of(undone)
    assert await memory_of(hub, ALICE).count() == 1


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (channel_message(BOB, ""), "has no text I could remember"),
        (channel_message(BOB, "   \n "), "has no text I could remember"),
        (
            channel_message(BOB, "", files=[{"id": "F0PHOTO", "name": "whiteboard.png"}], upload=True),
            "only files or attachments",
        ),
        (
            channel_message(None, "", attachments=[{"fallback": "a chart", "title": "Q3"}]),
            "only files or attachments",
        ),
        (channel_message(BOB, "x" * 2500), "too long to remember (2,500 characters; the limit is 2,000)"),
    ],
    ids=["empty", "blank", "only-a-file", "only-an-attachment", "over-the-limit"],
)
async def test_a_message_cubby_cannot_keep_gets_a_clear_reply_and_stores_nothing(
    slack: SlackHarness, hub: Hub, message: dict, problem: str
) -> None:
    reply = await slack.shortcut(ALICE, message)

    assert reply["response_type"] == "ephemeral"
    assert problem in text_of(reply)
    assert await memory_of(hub, ALICE).count() == 0
    assert not slack.fake.calls_to("chat.getPermalink")  # refused before asking Slack anything


async def test_a_message_with_text_and_a_file_keeps_the_text(slack: SlackHarness, hub: Hub) -> None:
    message = channel_message(BOB, "Slides for Friday", files=[{"id": "F0DECK", "name": "deck.pdf"}])

    await slack.shortcut(ALICE, message)

    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["Slides for Friday"]


async def test_without_a_permalink_the_message_is_still_saved(slack: SlackHarness, hub: Hub) -> None:
    slack.fake.fail("chat.getPermalink", "channel_not_found")

    reply = await slack.shortcut(ALICE, channel_message(BOB, "Standup moved to 9:30"))

    assert "I'll remember this message" in text_of(reply)
    [record] = await memory_of(hub, ALICE).get_all()
    assert record.source is not None and record.source.permalink is None
    assert record.source.channel == "C1"

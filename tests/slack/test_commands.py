"""/remember, /recall and /cubby over real HTTP: every answer goes to the response_url, ephemeral."""

import pytest

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_harness import SlackHarness, buttons_in, text_of

from .conftest import ALICE


def alice_memory(hub: Hub):
    return hub.scoped(UserKey.slack(ALICE.team, ALICE.user))


async def test_remember_stores_the_text_and_confirms_only_to_the_person(
    slack: SlackHarness, hub: Hub
) -> None:
    reply = await slack.command(ALICE, "/remember", "I am vegetarian", channel="C0KITCHEN")

    assert reply["response_type"] == "ephemeral"
    assert "I'll remember: I am vegetarian" in text_of(reply)
    [record] = await alice_memory(hub).get_all()
    assert record.text == "I am vegetarian"
    assert record.source is not None and (record.source.platform, record.source.channel) == (
        "slack",
        "C0KITCHEN",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "nothing to remember"),
        ("     ", "nothing to remember"),
        ("x" * 5000, "too long"),
        ("bad\x07bell", "control characters"),
    ],
)
async def test_remember_with_bad_text_gets_a_usage_message_and_stores_nothing(
    slack: SlackHarness, hub: Hub, text: str, problem: str
) -> None:
    reply = await slack.command(ALICE, "/remember", text)

    assert reply["response_type"] == "ephemeral"
    assert problem in text_of(reply)
    assert "Usage: /remember &lt;text&gt;" in text_of(reply)
    assert await alice_memory(hub).count() == 0


async def test_recall_with_words_finds_memories_by_meaning(slack: SlackHarness) -> None:
    await slack.command(ALICE, "/remember", "I am vegetarian")
    await slack.command(ALICE, "/remember", "I always want a window seat")

    reply = await slack.command(ALICE, "/recall", "food")

    assert reply["response_type"] == "ephemeral"
    assert 'What I remember about "food"' in text_of(reply)
    assert "I am vegetarian" in text_of(reply)


async def test_recall_without_words_lists_everything_a_page_at_a_time(slack: SlackHarness, hub: Hub) -> None:
    for number in range(12):
        await alice_memory(hub).add(f"note number {number:02d}")

    first = await slack.command(ALICE, "/recall")
    assert "Everything I remember about you (12, page 1 of 2)" in text_of(first)
    assert "note number 00" in text_of(first) and "note number 10" not in text_of(first)
    pager = [b["value"] for b in buttons_in(first) if b["action_id"] == blocks.RECALL_PAGE]
    assert pager == ["2"]
    assert len([b for b in buttons_in(first) if b["action_id"] == blocks.EDIT]) == 10  # one per memory

    second = await slack.click(ALICE, first, blocks.RECALL_PAGE, "2")
    assert second["replace_original"] is True and second["response_type"] == "ephemeral"
    assert "page 2 of 2" in text_of(second)
    assert "note number 11" in text_of(second) and "note number 00" not in text_of(second)


async def test_recall_of_someone_with_no_memories_says_so(slack: SlackHarness) -> None:
    reply = await slack.command(ALICE, "/recall")
    assert "I don't remember anything about you yet" in text_of(reply)


async def test_recall_with_an_oversized_query_gets_a_usage_message(slack: SlackHarness) -> None:
    reply = await slack.command(ALICE, "/recall", "q" * 900)
    assert "too long" in text_of(reply) and "Usage: /recall" in text_of(reply)


async def test_memory_text_is_escaped_so_it_cannot_mention_or_link(slack: SlackHarness) -> None:
    await slack.command(ALICE, "/remember", "tell <!channel> & <@U0BOB> about <https://x.example|this>")

    reply = await slack.command(ALICE, "/recall")

    shown = text_of(reply)
    assert "&lt;!channel&gt; &amp; &lt;@U0BOB&gt;" in shown
    assert "<!channel>" not in shown and "<@U0BOB>" not in shown and "<https://" not in shown


async def test_cubby_without_a_subcommand_explains_the_commands(slack: SlackHarness) -> None:
    reply = await slack.command(ALICE, "/cubby")
    assert reply["response_type"] == "ephemeral"
    assert "/remember" in text_of(reply) and "/cubby export" in text_of(reply)


async def test_cubby_with_an_unknown_subcommand_says_so_and_explains(slack: SlackHarness) -> None:
    reply = await slack.command(ALICE, "/cubby", "frobnicate")
    assert "I don't know '/cubby frobnicate'" in text_of(reply) and "/recall" in text_of(reply)

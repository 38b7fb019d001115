"""/forget: a question with danger buttons that confirm once more; erasure only on the click, and only
ever of the clicker's own memories - whatever the button's value says."""

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_harness import SlackHarness, button, buttons_in, text_of

from .conftest import ALICE, BOB


def memory_of(hub: Hub, person):
    return hub.scoped(UserKey.slack(person.team, person.user))


async def test_forget_asks_with_a_confirmed_danger_button_before_erasing_everything(
    slack: SlackHarness, hub: Hub
) -> None:
    await memory_of(hub, ALICE).add("I am vegetarian")
    await memory_of(hub, ALICE).add("I like jazz")

    question = await slack.command(ALICE, "/forget")

    assert question["response_type"] == "ephemeral"
    assert "Forget everything? This erases all 2 memories" in text_of(question)
    forget_all = button(question, blocks.FORGET, blocks.EVERYTHING)
    assert forget_all["style"] == "danger" and forget_all["confirm"]["style"] == "danger"
    assert await memory_of(hub, ALICE).count() == 2  # asking erased nothing

    done = await slack.click(ALICE, question, blocks.FORGET, blocks.EVERYTHING)

    assert done["replace_original"] is True and done["response_type"] == "ephemeral"
    assert "erased 2 memories" in text_of(done)
    assert await memory_of(hub, ALICE).count() == 0


async def test_cancel_keeps_everything(slack: SlackHarness, hub: Hub) -> None:
    await memory_of(hub, ALICE).add("I am vegetarian")
    question = await slack.command(ALICE, "/forget")

    cancelled = await slack.click(ALICE, question, blocks.FORGET_CANCEL)

    assert "kept everything" in text_of(cancelled)
    assert await memory_of(hub, ALICE).count() == 1


async def test_forget_by_memory_id_erases_just_that_memory_after_confirmation(
    slack: SlackHarness, hub: Hub
) -> None:
    [vegetarian] = await memory_of(hub, ALICE).add("I am vegetarian")
    await memory_of(hub, ALICE).add("I like jazz")

    question = await slack.command(ALICE, "/forget", vegetarian.id)
    assert "Forget this memory for good?" in text_of(question) and "I am vegetarian" in text_of(question)
    done = await slack.click(ALICE, question, blocks.FORGET, vegetarian.id)

    assert "erased 1 memory" in text_of(done)
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["I like jazz"]


async def test_forget_by_words_lets_the_person_choose_among_matches(slack: SlackHarness, hub: Hub) -> None:
    for text in ("I am vegetarian", "my cat is called Miso", "I like cats"):
        await memory_of(hub, ALICE).add(text)

    question = await slack.command(ALICE, "/forget", "cat")

    assert "Which one should I forget?" in text_of(question)
    choices = [b for b in buttons_in(question) if b["action_id"] == blocks.FORGET]
    assert len(choices) >= 2 and all(b["confirm"] for b in choices)
    done = await slack.click_button(ALICE, choices[0])
    assert "erased 1 memory" in text_of(done)
    assert await memory_of(hub, ALICE).count() == 2


async def test_forget_when_nothing_matches_says_so(slack: SlackHarness) -> None:
    reply = await slack.command(ALICE, "/forget")
    assert "I found nothing to forget" in text_of(reply) and not buttons_in(reply)


async def test_a_crafted_button_with_someone_elses_memory_id_erases_nothing(
    slack: SlackHarness, hub: Hub
) -> None:
    [secret] = await memory_of(hub, ALICE).add("my bank PIN hint is the dog's birthday")

    crafted = {
        "type": "button",
        "action_id": blocks.FORGET,
        "value": secret.id,
        "text": {"type": "plain_text", "text": "x"},
    }
    done = await slack.click_button(BOB, crafted)

    assert "nothing to forget" in text_of(done)
    assert await memory_of(hub, ALICE).get(secret.id) is not None


async def test_a_forwarded_forget_everything_button_erases_only_the_clickers_memories(
    slack: SlackHarness, hub: Hub
) -> None:
    await memory_of(hub, ALICE).add("I am vegetarian")
    await memory_of(hub, BOB).add("I always want a window seat")
    alices_question = await slack.command(ALICE, "/forget")

    done = await slack.click(BOB, alices_question, blocks.FORGET, blocks.EVERYTHING)

    assert "erased 1 memory" in text_of(done)
    assert await memory_of(hub, BOB).count() == 0
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["I am vegetarian"]

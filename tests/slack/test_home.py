"""The App Home tab: the person's own memories, each with a delete button, plus forget-all and export."""

import json

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_harness import SlackHarness, button, buttons_in, text_of

from .conftest import ALICE, BOB


def memory_of(hub: Hub, person):
    return hub.scoped(UserKey.slack(person.team, person.user))


async def test_opening_home_publishes_the_persons_memories_with_a_delete_button_each(
    slack: SlackHarness, hub: Hub
) -> None:
    [vegetarian] = await memory_of(hub, ALICE).add("I am vegetarian")
    [jazz] = await memory_of(hub, ALICE).add("I like <jazz> & blues")
    await memory_of(hub, BOB).add("I always want a window seat")

    view = await slack.open_home(ALICE)

    assert view["type"] == "home"
    assert "What Cubby remembers about you" in text_of(view)
    assert "I am vegetarian" in text_of(view) and "I like &lt;jazz&gt; &amp; blues" in text_of(view)
    assert "window seat" not in text_of(view)
    deletes = [b for b in buttons_in(view) if b["action_id"] == blocks.HOME_DELETE]
    assert sorted(b["value"] for b in deletes) == sorted([vegetarian.id, jazz.id])
    assert all(b["style"] == "danger" and b["confirm"] for b in deletes)
    assert button(view, blocks.HOME_FORGET_ALL)["confirm"]
    button(view, blocks.HOME_EXPORT)


async def test_a_delete_button_erases_that_memory_and_refreshes_home(slack: SlackHarness, hub: Hub) -> None:
    [vegetarian] = await memory_of(hub, ALICE).add("I am vegetarian")
    await memory_of(hub, ALICE).add("I like jazz")
    view = await slack.open_home(ALICE)

    refreshed = await slack.click_home(ALICE, view, blocks.HOME_DELETE, vegetarian.id)

    assert "erased 1 memory" in text_of(refreshed)
    assert "I am vegetarian" not in text_of(refreshed) and "I like jazz" in text_of(refreshed)
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["I like jazz"]


async def test_forget_everything_on_home_erases_all_and_shows_an_empty_home(
    slack: SlackHarness, hub: Hub
) -> None:
    await memory_of(hub, ALICE).add("I am vegetarian")
    await memory_of(hub, ALICE).add("I like jazz")
    view = await slack.open_home(ALICE)

    refreshed = await slack.click_home(ALICE, view, blocks.HOME_FORGET_ALL)

    assert "erased 2 memories" in text_of(refreshed)
    assert "I don't remember anything about you yet" in text_of(refreshed)
    assert await memory_of(hub, ALICE).count() == 0


async def test_the_export_button_sends_the_file_to_the_persons_dm(slack: SlackHarness, hub: Hub) -> None:
    await memory_of(hub, ALICE).add("I am vegetarian")
    view = await slack.open_home(ALICE)

    refreshed = await slack.click_home(ALICE, view, blocks.HOME_EXPORT)

    assert "all 1 memory" in text_of(refreshed)
    [upload] = slack.fake.calls_to("upload")
    assert [m["text"] for m in json.loads(upload.raw)["memories"]] == ["I am vegetarian"]
    assert slack.fake.calls_to("files.completeUploadExternal")[0].params["channel_id"] == ALICE.dm_channel


async def test_home_pages_through_many_memories(slack: SlackHarness, hub: Hub) -> None:
    for number in range(25):
        await memory_of(hub, ALICE).add(f"note number {number:02d}")

    first = await slack.open_home(ALICE)
    assert "25 memories - page 1 of 2" in text_of(first) and "note number 24" not in text_of(first)
    second = await slack.click_home(ALICE, first, blocks.HOME_PAGE, "2")
    assert "page 2 of 2" in text_of(second) and "note number 24" in text_of(second)
    assert second["private_metadata"] == "2"


async def test_a_crafted_home_delete_of_someone_elses_memory_erases_nothing(
    slack: SlackHarness, hub: Hub
) -> None:
    [secret] = await memory_of(hub, ALICE).add("my bank PIN hint is the dog's birthday")
    await memory_of(hub, BOB).add("I always want a window seat")
    bobs_view = await slack.open_home(BOB)
    forged_view = json.loads(json.dumps(bobs_view))
    forged_view["blocks"][-1]["elements"][-1]["value"] = secret.id  # Bob rewrites his delete button

    refreshed = await slack.click_home(BOB, forged_view, blocks.HOME_DELETE, secret.id)

    assert "nothing to forget" in text_of(refreshed) and "PIN" not in text_of(refreshed)
    assert await memory_of(hub, ALICE).get(secret.id) is not None
    assert await memory_of(hub, BOB).count() == 1


async def test_opening_the_messages_tab_publishes_nothing(slack: SlackHarness) -> None:
    event = {"type": "app_home_opened", "user": ALICE.user, "channel": ALICE.dm_channel, "tab": "messages"}
    assert await slack.event(ALICE, event) == 200
    await slack.settle()
    assert slack.fake.calls_to("views.publish") == []

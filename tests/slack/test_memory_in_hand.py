"""Edit, expiry, pause, import and workspace retention on Slack, over real HTTP to the fake."""

import json

from bots.slack import blocks
from core import Hub, UserKey
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import Person, SlackHarness, button, text_of

from .conftest import ALICE

BOB = Person("UBOB", ALICE.team)


def memory_of(hub: Hub, person: Person):
    return hub.scoped(UserKey.slack(person.team, person.user))


async def _opened_modal(slack: SlackHarness, person: Person, message: dict, memory_id: str) -> dict:
    mark = len(slack.fake.calls)
    response_url = slack.fake.response_url()
    from tests.loopback.slack_harness import block_actions_payload

    payload = block_actions_payload(
        person, button(message, blocks.EDIT, memory_id), response_url=response_url
    )
    status, _ = await slack.post_form({"payload": json.dumps(payload)})
    assert status == 200
    call = await slack.fake.wait_for(lambda c: c.method in ("views.open", "response_url"), after=mark)
    return call.params


async def test_edit_from_recall_opens_a_prefilled_modal_and_saves(slack: SlackHarness, hub: Hub) -> None:
    [record] = await memory_of(hub, ALICE).add("my badge is 55")
    listing = await slack.command(ALICE, "/recall")
    opened = await _opened_modal(slack, ALICE, listing, record.id)
    view = opened["view"]
    assert view["callback_id"] == blocks.EDIT_MODAL
    assert "my badge is 55" in json.dumps(view)
    mark = len(slack.fake.calls)
    status, _ = await slack.submit_view(
        ALICE, view, {blocks.EDIT_INPUT: {blocks.EDIT_INPUT: "my badge is 77"}}
    )
    assert status == 200
    reply = await slack.fake.wait_for(lambda c: c.method == "response_url", after=mark)
    assert "I now remember: my badge is 77" in text_of(reply.params)
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["my badge is 77"]


async def test_an_empty_edit_keeps_the_modal_open_and_changes_nothing(slack: SlackHarness, hub: Hub) -> None:
    [record] = await memory_of(hub, ALICE).add("my badge is 55")
    view = blocks.edit_modal(record, origin="home", max_chars=2000)
    status, body = await slack.submit_view(ALICE, view, {blocks.EDIT_INPUT: {blocks.EDIT_INPUT: "  "}})
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    assert [r.text for r in await memory_of(hub, ALICE).get_all()] == ["my badge is 55"]


async def test_someone_elses_memory_cannot_be_edited_by_button_or_by_a_crafted_modal(
    slack: SlackHarness, hub: Hub
) -> None:
    [bobs] = await memory_of(hub, BOB).add("bob's pin is 1111")
    crafted = {
        "type": "button",
        "action_id": blocks.EDIT,
        "value": bobs.id,
        "text": {"type": "plain_text", "text": "Edit"},
    }
    reply = await slack.click_button(ALICE, crafted)
    assert "no memory with that id" in text_of(reply)
    assert not slack.fake.calls_to("views.open")
    view = blocks.edit_modal(bobs, origin="home", max_chars=2000)
    mark = len(slack.fake.calls)
    await slack.submit_view(ALICE, view, {blocks.EDIT_INPUT: {blocks.EDIT_INPUT: "hijacked"}})
    home = await slack.fake.wait_for(lambda c: c.method == "views.publish", after=mark)
    assert home.params["user_id"] == ALICE.user and "no memory with that id" in json.dumps(home.params)
    assert [r.text for r in await memory_of(hub, BOB).get_all()] == ["bob's pin is 1111"]


async def test_home_tab_has_an_edit_button_per_memory_and_shows_provenance(
    slack: SlackHarness, hub: Hub
) -> None:
    await slack.command(ALICE, "/remember", "I am vegetarian for 30 days", channel="C0KITCHEN")
    view = await slack.open_home(ALICE)
    [record] = await memory_of(hub, ALICE).get_all()
    assert button(view, blocks.EDIT, record.id)
    shown = json.dumps(view)
    assert "you told me, slack C0KITCHEN" in shown and "expires" in shown


async def test_remember_with_a_past_date_is_refused(slack: SlackHarness, hub: Hub) -> None:
    reply = await slack.command(ALICE, "/remember", "the party until 2001-01-01")
    assert "already passed" in text_of(reply)
    assert await memory_of(hub, ALICE).count() == 0


async def test_pause_status_resume(slack: SlackHarness, hub: Hub) -> None:
    assert "I'm paused" in text_of(await slack.command(ALICE, "/cubby", "pause"))
    assert "I'm paused" in text_of(await slack.command(ALICE, "/cubby", "status"))
    assert (await memory_of(hub, ALICE).settings()).paused
    assert "I'm learning" in text_of(await slack.command(ALICE, "/cubby", "resume"))
    assert "expire 7 days" in text_of(await slack.command(ALICE, "/cubby", "expiry 1 week"))


async def test_import_reads_the_file_uploaded_in_the_dm(
    slack: SlackHarness, hub: Hub, fake_slack: FakeSlack
) -> None:
    alice = memory_of(hub, ALICE)
    await alice.add("I like rye bread")
    exported = json.dumps(await alice.export()).encode()
    await alice.erase_everything()
    fake_slack.share_file(ALICE.user, ALICE.dm_channel, "cubby-memories.json", exported)
    first = await slack.command(ALICE, "/cubby", "import", channel=ALICE.dm_channel)
    assert "Imported 1 memory." in text_of(first)
    second = await slack.command(ALICE, "/cubby", "import", channel=ALICE.dm_channel)
    assert "1 I already had were skipped" in text_of(second)
    assert [r.text for r in await alice.get_all()] == ["I like rye bread"]
    [download, *_] = fake_slack.calls_to("url_private")
    assert download.token == f"xoxb-{ALICE.team}"


async def test_a_foreign_or_oversized_import_or_one_outside_the_dm_changes_nothing(
    slack: SlackHarness, hub: Hub, fake_slack: FakeSlack
) -> None:
    bob = memory_of(hub, BOB)
    await bob.add("bob's note")
    fake_slack.share_file(ALICE.user, ALICE.dm_channel, "bob.json", json.dumps(await bob.export()).encode())
    assert "belongs to someone else" in text_of(
        await slack.command(ALICE, "/cubby", "import", channel=ALICE.dm_channel)
    )
    fake_slack.share_file(ALICE.user, ALICE.dm_channel, "big.json", b" " * (5 * 1024 * 1024 + 1))
    assert "larger than 5 MB" in text_of(
        await slack.command(ALICE, "/cubby", "import", channel=ALICE.dm_channel)
    )
    assert "in your DM" in text_of(await slack.command(ALICE, "/cubby", "import", channel="C1"))
    assert await memory_of(hub, ALICE).count() == 0
    assert [r.text for r in await bob.get_all()] == ["bob's note"]


async def test_retention_is_for_admins_and_they_see_only_counts(
    slack: SlackHarness, hub: Hub, fake_slack: FakeSlack
) -> None:
    await memory_of(hub, BOB).add("bob's private plan")
    refused = await slack.command(ALICE, "/cubby", "retention 30 days")
    assert "only a workspace admin" in text_of(refused)
    fake_slack.admins.add(ALICE.user)
    set_reply = text_of(await slack.command(ALICE, "/cubby", "retention 30 days"))
    assert "Retention is 30 days" in set_reply and "erased 0" in set_reply
    status = text_of(await slack.command(ALICE, "/cubby", "retention"))
    assert "0 memories made here are older" in status and "plan" not in status
    assert "Retention is off" in text_of(await slack.command(ALICE, "/cubby", "retention off"))
    assert await memory_of(hub, BOB).count() == 1

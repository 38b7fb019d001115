"""/cubby export: the person's memories as a JSON file in their DM with Cubby; and the acknowledgement
never waits for the work behind a command."""

import json

from core import Hub, Settings
from tests.conftest import files_containing
from tests.loopback.slack_harness import SlackHarness, command_payload, text_of

from .conftest import ALICE, BOB


async def test_export_sends_a_json_file_to_the_persons_dm(slack: SlackHarness, hub: Hub) -> None:
    await slack.command(ALICE, "/remember", "I am vegetarian")
    await slack.command(ALICE, "/remember", "I like jazz")
    await slack.command(BOB, "/remember", "I always want a window seat")

    reply = await slack.command(ALICE, "/cubby", "export")

    assert reply["response_type"] == "ephemeral"
    assert "all 2 memories" in text_of(reply) and "direct messages" in text_of(reply)
    [opened] = slack.fake.calls_to("conversations.open")
    assert opened.params["users"] == ALICE.user
    [upload] = slack.fake.calls_to("upload")
    document = json.loads(upload.raw)
    assert document["user"] == f"slack:{ALICE.team}:{ALICE.user}"
    assert sorted(m["text"] for m in document["memories"]) == ["I am vegetarian", "I like jazz"]
    [shared] = slack.fake.calls_to("files.completeUploadExternal")
    assert shared.params["channel_id"] == ALICE.dm_channel
    assert [f["id"] for f in shared.params["files"]] == [upload.params["file_id"]]


async def test_a_command_is_acknowledged_before_its_work_is_done(slack: SlackHarness) -> None:
    release = slack.fake.hold("conversations.open")  # the export's work stalls on Slack's side
    response_url = slack.fake.response_url()

    status, body = await slack.post_form(command_payload(ALICE, "/cubby", "export", response_url))

    assert status == 200 and body == ""  # acknowledged while the work is still waiting
    assert not slack.fake.calls_to("response_url")
    release.set()
    reply = await slack.fake.wait_for(lambda c: c.method == "response_url")
    assert "all 0 memories" in text_of(reply.params)


async def test_a_slack_api_failure_gets_an_apology_and_the_bot_keeps_working(slack: SlackHarness) -> None:
    slack.fake.fail("files.completeUploadExternal", "internal_error")

    apology = await slack.command(ALICE, "/cubby", "export")

    assert apology["response_type"] == "ephemeral"
    assert text_of(apology).startswith("Sorry, something went wrong")
    del slack.fake.failures["files.completeUploadExternal"]
    assert "I'll remember" in text_of(await slack.command(ALICE, "/remember", "I like jazz"))
    assert "all 1 memory" in text_of(await slack.command(ALICE, "/cubby", "export"))


async def test_a_memory_store_failure_gets_an_apology_and_changes_nothing(
    slack: SlackHarness, hub: Hub, settings: Settings
) -> None:
    await hub.close()  # the real store goes away under the bot

    apology = await slack.command(ALICE, "/remember", "I am vegetarian")

    assert "nothing was changed" in text_of(apology) and apology["response_type"] == "ephemeral"
    assert "Sorry" in text_of(await slack.command(ALICE, "/recall"))
    assert "Sorry" in text_of(await slack.command(ALICE, "/forget"))
    assert files_containing(settings.data_dir, "I am vegetarian") == []

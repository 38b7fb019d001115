"""Across a whole session on every path: memory text is shown only to its owner (ephemeral answers, the
owner's DM, the owner's Home tab) and never written to the logs."""

import logging

import pytest

from bots.slack import blocks
from tests.conftest import logged_text
from tests.loopback.slack_harness import SlackHarness

from .conftest import ALICE, BOB

CANARY = "canary-7f3a my passport number is X1234567"


async def a_session_on_every_path(slack: SlackHarness) -> None:
    await slack.command(ALICE, "/remember", CANARY)
    await slack.command(ALICE, "/remember", "x" * 3000)  # refused: quoted nowhere either
    await slack.command(ALICE, "/recall", "passport")
    await slack.command(ALICE, "/recall")
    question = await slack.command(ALICE, "/forget", "passport")
    await slack.dm(ALICE, "what is my passport number?")
    await slack.mention(ALICE, "what is my passport number?", channel="C0PUBLIC")
    await slack.command(ALICE, "/cubby", "export")
    view = await slack.open_home(ALICE)
    await slack.click_home(ALICE, view, blocks.HOME_EXPORT)
    await slack.mention(BOB, "what is my passport number?", channel="C0PUBLIC")
    await slack.click(ALICE, question, blocks.FORGET)
    await slack.settle()


async def test_memory_text_reaches_only_its_owner(slack: SlackHarness) -> None:
    await a_session_on_every_path(slack)

    carrying = [call for call in slack.fake.calls if CANARY.encode() in repr(call.params).encode() + call.raw]
    assert carrying, "the session never showed the memory at all"
    for call in carrying:
        if call.method == "response_url":
            assert call.params["response_type"] == "ephemeral"
        elif call.method == "chat.postMessage":
            assert call.params["channel"] == ALICE.dm_channel
        elif call.method == "chat.postEphemeral":
            assert call.params["user"] == ALICE.user
        elif call.method == "views.publish":
            assert call.params["user_id"] == ALICE.user
        else:
            assert call.method == "upload"  # the export file, shared only into Alice's DM
    for shared in slack.fake.calls_to("files.completeUploadExternal"):
        assert shared.params["channel_id"] == ALICE.dm_channel


async def test_no_memory_text_is_logged_at_info_or_above(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    await a_session_on_every_path(slack)
    slack.fake.fail("chat.postEphemeral", "channel_not_found")  # errors are logged without the text too
    await slack.event(
        ALICE, {"type": "app_mention", "channel": "C1", "user": ALICE.user, "text": CANARY, "ts": "9.9"}
    )
    await slack.settle()

    assert caplog.records, "nothing was logged at all"
    for record in caplog.records:
        assert "canary-7f3a" not in record.getMessage()
        assert "passport" not in record.getMessage()


async def test_slack_libraries_never_log_bodies_even_when_cubby_logs_at_debug(
    every_log_record: list[logging.LogRecord], slack: SlackHarness
) -> None:
    # Logging is at DEBUG first (so Bolt makes its loggers at DEBUG), then the app is built.
    # The app exists (and Bolt made its loggers at the root's DEBUG) before anything is checked.
    for name in ("slack_sdk.web.async_base_client", "slack_bolt.AsyncApp", "cubby", "slack_bolt"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name

    await a_session_on_every_path(slack)

    assert logging.getLogger().isEnabledFor(logging.DEBUG)
    assert [r.name for r in every_log_record if "canary-7f3a" in logged_text([r])] == []

"""The pieces without I/O: user keys from every payload shape, mrkdwn escaping, the event dedupe."""

import pytest

from bots.slack import blocks, identity
from core import InvalidUserKey, MemoryRecord, Recalled, UserKey

COMMAND = {"command": "/recall", "team_id": "T0NORTH", "user_id": "U0ALICE", "text": ""}
GRID_COMMAND = COMMAND | {"enterprise_id": "E0GRID"}
ACTION = {"type": "block_actions", "team": {"id": "T0NORTH"}, "enterprise": None, "user": {"id": "U0ALICE"}}
ORG_WIDE_ACTION = {
    "type": "block_actions",
    "team": None,
    "enterprise": {"id": "E0GRID"},
    "user": {"id": "U0ALICE", "team_id": "T0WS"},
}
EVENT = {
    "type": "event_callback",
    "team_id": "T0OTHER",
    "event": {"type": "message", "user": "U0ALICE"},
    "authorizations": [{"enterprise_id": None, "team_id": "T0NORTH"}],
}


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (COMMAND, "slack:T0NORTH:U0ALICE"),
        (GRID_COMMAND, "slack:E0GRID:U0ALICE"),
        (ACTION, "slack:T0NORTH:U0ALICE"),
        (ORG_WIDE_ACTION, "slack:E0GRID:U0ALICE"),
        (EVENT, "slack:T0NORTH:U0ALICE"),  # the installation it was delivered for, not the top-level team
        ({k: v for k, v in EVENT.items() if k != "authorizations"}, "slack:T0OTHER:U0ALICE"),
    ],
)
def test_every_payload_shape_gives_the_same_kind_of_key(payload, key) -> None:
    assert str(identity.user_key(payload)) == key


@pytest.mark.parametrize(
    "payload",
    [
        {},
        COMMAND | {"user_id": ""},
        COMMAND | {"team_id": None},
        COMMAND | {"user_id": "*"},
        COMMAND | {"team_id": "T0NORTH:U0BOB"},
        COMMAND | {"user_id": "u0alice"},
        ACTION | {"user": {"name": "alice"}},
        EVENT | {"event": {"type": "message"}},
    ],
)
def test_a_payload_without_a_valid_workspace_and_user_is_refused(payload) -> None:
    with pytest.raises(InvalidUserKey):
        identity.user_key(payload)


def test_a_workspace_prefix_is_refused_for_a_malformed_id() -> None:
    assert identity.workspace_prefix("T0NORTH") == "slack:T0NORTH:"
    with pytest.raises(InvalidUserKey):
        identity.workspace_prefix("*")


def test_escape_neutralises_exactly_what_slack_treats_as_markup() -> None:
    assert blocks.escape("<!here> & <@U1> <#C1|x>") == "&lt;!here&gt; &amp; &lt;@U1&gt; &lt;#C1|x&gt;"


def test_fit_shortens_without_breaking_an_escape() -> None:
    fitted = blocks.fit("&" * 1000, limit=42)
    assert len(fitted) <= 42 and fitted.endswith("…")
    assert fitted[:-1] == "&amp;" * 8


def test_every_message_block_stays_within_slacks_limits() -> None:
    longest = MemoryRecord(id="0" * 8 + "-0000-0000-0000-" + "0" * 12, text="<&>" * 2000)
    message = blocks.recalled(Recalled(None, [longest] * 10, total=30, page=2, pages=3))
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= blocks.SECTION_LIMIT
    assert len(message["blocks"]) <= 50
    view = blocks.home_view(Recalled(None, [longest] * 20, total=60, page=1, pages=3))
    assert len(view["blocks"]) <= 100


def test_user_keys_from_identity_are_the_cores_keys() -> None:
    assert identity.user_key(COMMAND) == UserKey.slack("T0NORTH", "U0ALICE")

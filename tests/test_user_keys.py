"""User keys are strict: canonical forms only, never normalised into someone else's key."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import InvalidUserKey, UserKey


def test_each_platform_has_one_canonical_form() -> None:
    assert str(UserKey.slack("T0123ABCD", "U0456EFGH")) == "slack:T0123ABCD:U0456EFGH"
    assert str(UserKey.slack("E0ENTERPRISE", "W0123")) == "slack:E0ENTERPRISE:W0123"
    assert str(UserKey.discord(81234567890123456)) == "discord:81234567890123456"
    assert str(UserKey.discord("81234567890123456")) == "discord:81234567890123456"
    assert str(UserKey.cli("alice")) == "cli:alice"


@pytest.mark.parametrize("workspace", ["T0NORTH", "E0GRID"])
def test_a_workspace_prefix_is_the_start_of_exactly_that_workspace_s_keys(workspace: str) -> None:
    prefix = UserKey.workspace_prefix(workspace)
    assert prefix == f"slack:{workspace}:"
    assert str(UserKey.slack(workspace, "U1")).startswith(prefix)
    assert not str(UserKey.slack(workspace + "0", "U1")).startswith(prefix)


@pytest.mark.parametrize("workspace", ["*", "", "t0north", "T0:U1", "T0 ", "Ｔ0", 7])
def test_a_workspace_prefix_is_refused_for_a_malformed_id(workspace: object) -> None:
    with pytest.raises(InvalidUserKey):
        UserKey.workspace_prefix(workspace)  # type: ignore[arg-type]


def test_the_platform_user_id_is_what_the_platform_calls_the_person() -> None:
    assert UserKey.slack("T0", "U456").user_id == "U456"
    assert UserKey.discord(81234567890123456).user_id == "81234567890123456"
    assert UserKey.cli("alice").user_id == "alice"


def test_parse_returns_the_key_whose_canonical_form_it_is() -> None:
    for text in ("slack:T1A:U2B", "discord:1", "cli:bob_2-x"):
        assert str(UserKey.parse(text)) == text
    assert UserKey.parse("slack:T1A:U2B") == UserKey.slack("T1A", "U2B")


def test_the_same_user_id_in_two_workspaces_is_two_people() -> None:
    assert UserKey.slack("T1", "U1") != UserKey.slack("T2", "U1")


ADVERSARIAL = [
    "",
    " ",
    "*",
    "slack:*",
    "slack:T1:*",
    "slack:*:U1",
    "slack:T1:U1*",
    "discord:*",
    "cli:*",
    "slack:T1:U1 ",
    " slack:T1:U1",
    "slack: T1:U1",
    "slack:T1:U1\n",
    "slack:T1:U1\x00",
    "slack:t1:u1",
    "SLACK:T1:U1",
    "Slack:T1:U1",
    "slack:T1:U1:extra",
    "slack:T1::U1",
    "slack::U1",
    "slack:T1",
    "discord:0",
    "discord:0123",
    "discord:-1",
    "discord:1.5",
    "discord:18446744073709551616",
    "discord:１２３",
    "cli:Alice",
    "cli:",
    "cli:a b",
    "cli:-a",
    "cli:ａlice",
    "slack:Т1:U1",  # Cyrillic Т
    "discord:81234:1",
    "mastodon:alice",
    "slack:T1:U1" + "A" * 100,
    "cli:" + "a" * 33,
    "%",
    "_",
    "slack:T1:U%",
    "slack:T1:U_",
    "discord:1;DROP TABLE",
    "cli:alice' OR '1'='1",
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_adversarial_keys_are_refused(text: str) -> None:
    with pytest.raises(InvalidUserKey):
        UserKey.parse(text)


@pytest.mark.parametrize(
    "build",
    [
        lambda: UserKey.slack("T1", "*"),
        lambda: UserKey.slack("", "U1"),
        lambda: UserKey.slack("T1", " U1"),
        lambda: UserKey.slack("T1:U1", "U2"),
        lambda: UserKey.discord(True),
        lambda: UserKey.discord(0),
        lambda: UserKey.discord(-5),
        lambda: UserKey.discord(2**64),
        lambda: UserKey.cli("alice bob"),
        lambda: UserKey("slack", ("T1",)),
        lambda: UserKey("other", ("x",)),
        lambda: UserKey.parse(None),  # type: ignore[arg-type]
        lambda: UserKey.parse(b"cli:alice"),  # type: ignore[arg-type]
    ],
)
def test_typed_constructors_refuse_bad_parts(build) -> None:
    with pytest.raises(InvalidUserKey):
        build()


@given(st.text(max_size=40))
def test_any_text_either_is_refused_or_round_trips_exactly(text: str) -> None:
    try:
        key = UserKey.parse(text)
    except InvalidUserKey:
        return
    assert str(key) == text


@given(st.from_regex(r"[A-Z0-9]{2,32}", fullmatch=True), st.from_regex(r"[A-Z0-9]{2,32}", fullmatch=True))
def test_every_valid_slack_key_round_trips(team: str, user: str) -> None:
    key = UserKey.slack(team, user)
    assert UserKey.parse(str(key)) == key
    assert key.workspace == team

"""One person, one key: every kind of Slack payload a person can send, through their own installation
or a Slack Connect host's, gives the key of that person's slash command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bots.slack import identity
from core import InvalidUserKey, UserKey
from tests.loopback import slack_shapes as shapes
from tests.loopback.slack_shapes import Installation, Person

ALICE = Person("U0ALICE", "T0NORTH")  # a workspace of its own
CAROL = Person("W0CAROL", "T0GRIDWS", enterprise="E0GRID")  # a workspace of an Enterprise Grid org
GUEST = Person("W0ACTOR", "T0GUESTWS", enterprise="E0GUEST")  # a Grid guest in a Slack Connect channel
SMALL_GUEST = Person("U0SMALL", "T0SMALL")  # a guest from a workspace without Grid
HOST = Installation("T0HOSTWS", "E0HOST")
ORG_WIDE = Installation(None, "E0GRID")

Shape = Callable[[Person, Installation], dict[str, Any]]

SHAPES: dict[str, Shape] = {
    "block_actions": lambda p, via: shapes.block_actions(p, via),
    "block_actions, enterprise only in team": lambda p, via: shapes.block_actions(
        p, via, team_enterprise_only=True
    ),
    "home tab button": lambda p, via: shapes.block_actions(p, via, view={"type": "home", "team_id": p.team}),
    "view_submission": shapes.view_submission,
    "global shortcut": shapes.shortcut,
    "message shortcut": lambda p, via: shapes.shortcut(p, via, on_message=True),
    "DM message": lambda p, via: shapes.event_callback(p, shapes.message_event(p, "hi"), via),
    "DM message, user_team is the team": lambda p, via: shapes.event_callback(
        p, shapes.message_event(p, "hi", user_team=p.team), via
    ),
    "mention": lambda p, via: shapes.event_callback(p, shapes.mention_event(p, "hi"), via),
    "mention, no team fields": lambda p, via: shapes.event_callback(
        p, _without(shapes.mention_event(p, "hi"), "team", "user_team", "source_team"), via
    ),
    "app_home_opened": lambda p, via: shapes.event_callback(p, shapes.home_opened_event(p), via),
}


def _without(event: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in names}


def slash_key(person: Person) -> UserKey:
    return identity.user_key(shapes.command(person))


def test_the_slash_command_key_is_the_home_organisation_and_the_user() -> None:
    assert str(slash_key(ALICE)) == "slack:T0NORTH:U0ALICE"
    assert str(slash_key(CAROL)) == "slack:E0GRID:W0CAROL"
    org_wide_command = shapes.command(CAROL, is_enterprise_install="true")
    assert str(identity.user_key(org_wide_command)) == "slack:E0GRID:W0CAROL"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("who", "via"),
    [
        (ALICE, Installation.of(ALICE)),
        (CAROL, Installation.of(CAROL)),
        (CAROL, ORG_WIDE),
    ],
    ids=["own workspace", "grid workspace", "org-wide install"],
)
def test_every_path_through_the_persons_own_installation_gives_their_slash_key(
    shape: str, who: Person, via: Installation
) -> None:
    assert identity.user_key(SHAPES[shape](who, via)) == slash_key(who)


CONNECT_SHAPES = [name for name in SHAPES if name not in ("mention, no team fields", "app_home_opened")]


@pytest.mark.parametrize("shape", CONNECT_SHAPES)
def test_a_workspace_guest_seen_through_the_hosts_installation_keeps_her_own_key(shape: str) -> None:
    assert identity.user_key(SHAPES[shape](SMALL_GUEST, HOST)) == slash_key(SMALL_GUEST)


GRID_NAMED = ("DM message", "mention")  # user_team is the guest's enterprise id


@pytest.mark.parametrize("shape", CONNECT_SHAPES)
def test_a_grid_guest_seen_through_the_hosts_installation_is_never_keyed_under_the_host(shape: str) -> None:
    key = identity.user_key(SHAPES[shape](GUEST, HOST))
    if shape in GRID_NAMED:
        assert key == slash_key(GUEST)
    else:
        # Only her team is named, not its organisation: her team's key, which her next slash command
        # (proving the team is part of her org) moves into her org's key.
        assert key == UserKey.slack(GUEST.team, GUEST.user)
        assert identity.person(shapes.command(GUEST)).earlier_key == key


def test_a_host_member_in_a_shared_channel_keeps_the_hosts_key() -> None:
    member = Person("W0HOSTER", "T0HOSTWS", enterprise="E0HOST")
    payload = shapes.event_callback(member, shapes.mention_event(member, "hi"), HOST, shared=True)
    assert identity.user_key(payload) == slash_key(member) == UserKey.slack("E0HOST", "W0HOSTER")


def test_a_shared_channel_event_that_names_no_team_for_its_user_is_refused() -> None:
    event = _without(shapes.mention_event(GUEST, "hi"), "team", "user_team", "source_team")
    with pytest.raises(InvalidUserKey):
        identity.user_key(shapes.event_callback(GUEST, event, HOST, shared=True))


@pytest.mark.parametrize(
    "payload",
    [
        shapes.command(CAROL),
        shapes.block_actions(CAROL, team_enterprise_only=True),
        shapes.event_callback(CAROL, shapes.message_event(CAROL, "hi", user_team=CAROL.team)),
        shapes.event_callback(CAROL, shapes.home_opened_event(CAROL)),
        shapes.block_actions(CAROL, ORG_WIDE),
    ],
    ids=["command", "button", "message", "home opened", "org-wide button"],
)
def test_a_payload_that_proves_the_team_is_part_of_the_org_names_the_pre_grid_key(payload) -> None:
    found = identity.person(payload)
    assert found.key == UserKey.slack("E0GRID", "W0CAROL")
    assert found.earlier_key == UserKey.slack("T0GRIDWS", "W0CAROL")


def test_without_grid_there_is_no_earlier_key() -> None:
    assert identity.person(shapes.command(ALICE)).earlier_key is None
    assert identity.person(shapes.block_actions(ALICE)).earlier_key is None


def test_a_guests_earlier_key_is_never_under_the_host() -> None:
    for shape in CONNECT_SHAPES:
        earlier = identity.person(SHAPES[shape](GUEST, HOST)).earlier_key
        assert earlier is None or earlier == UserKey.slack(GUEST.team, GUEST.user)


def test_installation_ids_are_the_receiving_installation_not_the_person() -> None:
    payload = shapes.event_callback(GUEST, shapes.mention_event(GUEST, "hi"), HOST)
    assert identity.installation_ids(payload) == ("E0HOST", "T0HOSTWS")
    assert identity.installation_ids(shapes.block_actions(CAROL, team_enterprise_only=True)) == (
        "E0GRID",
        "T0GRIDWS",
    )


def test_in_a_shared_channel_the_envelopes_ids_never_pair_a_guests_team_with_the_host() -> None:
    payload = shapes.event_callback(SMALL_GUEST, shapes.mention_event(SMALL_GUEST, "hi"), HOST)
    payload |= {"team_id": SMALL_GUEST.team, "enterprise_id": HOST.enterprise}  # however Slack fills them
    found = identity.person(payload)
    assert found.key == slash_key(SMALL_GUEST) and found.earlier_key is None

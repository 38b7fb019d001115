"""The one place a Slack payload becomes a :class:`UserKey`.

The rule: a person's key is ``slack:<home>:<user id>``, where *home* is the person's own organisation
- their Enterprise Grid organisation when there is one (its user ids are the same in every workspace
of the organisation), otherwise their own workspace - whichever installation delivered the payload.
So one person has one key on every path: slash commands, buttons, the Home tab, DMs, mentions,
shortcuts and modals, and a Slack Connect guest is keyed under her own organisation even when a
host's installation delivers her mention.

Where Slack says who the person is, by kind of payload:

- slash commands: the form fields ``enterprise_id``, ``team_id`` and ``user_id``;
- interactions (``block_actions``, ``view_submission``, ``shortcut``, ``message_action``): ``user.id``
  and ``user.team_id`` (the clicker's own team); ``team.enterprise_id`` or the top-level
  ``enterprise`` give the organisation of ``team``. With org-wide installs ``team`` is null and the
  installation's ``enterprise`` is the organisation of ``user.team_id``;
- events: ``event.user`` and ``event.user_team`` (or ``event.user_profile.team``, ``event.team``).
  ``authorizations`` name an installation that may see the event - in a shared channel, possibly
  another organisation's - so they only tell which team belongs to which organisation. A
  ``user_team`` can itself be an enterprise id.

Every field read here is part of a request whose signature Bolt has verified; nothing a person types
or puts in a button value takes part in a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import InvalidUserKey, UserKey


@dataclass(frozen=True, slots=True)
class SlackPerson:
    """Who sent a payload. ``earlier_key`` is where the same person's memories were kept before their
    workspace joined their Enterprise Grid organisation (``slack:<team>:<user>``), when this payload
    proves that the team belongs to that organisation; it is ``None`` otherwise."""

    key: UserKey
    earlier_key: UserKey | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: object) -> str | None:
    """An id given either as a string or as an object with an ``id`` (``{"id": "T123", ...}``)."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_enterprise(workspace: str) -> bool:
    return workspace.startswith("E")


def _kind(body: Mapping[str, Any]) -> str:
    if body.get("type") == "event_callback":
        return "event"
    if "command" in body:
        return "command"
    return "interaction"


def installation_ids(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(enterprise id, team id) of the installation that received ``body`` - not necessarily the
    person's own organisation (see :func:`person`)."""
    if _kind(body) == "event":
        authorizations = body.get("authorizations")
        if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], Mapping):
            source: Mapping[str, Any] = authorizations[0]
        else:
            source = body
        return _text(source.get("enterprise_id")), _text(source.get("team_id"))
    if _kind(body) == "command":
        return _text(body.get("enterprise_id")), _text(body.get("team_id"))
    team = _mapping(body.get("team"))
    enterprise = _id_of(body.get("enterprise")) or _text(team.get("enterprise_id"))
    return enterprise, _id_of(body.get("team")) or _text(_mapping(body.get("user")).get("team_id"))


def _organisations(body: Mapping[str, Any]) -> dict[str, str]:
    """Team id -> enterprise id, for every pairing the payload states.

    In a shared channel only the installations (``authorizations``) are taken as pairings: which
    organisation the envelope's other ids describe is not documented there, and a wrong pairing
    would key a guest under her host. Unpaired, a person keeps their team's key until a payload of
    their own installation pairs it (their next command moves it; see :class:`SlackPerson`)."""
    pairs: list[tuple[object, object]] = []
    if body.get("is_ext_shared_channel") is not True:
        pairs.append((body.get("team_id"), body.get("enterprise_id")))
        pairs.append((body.get("context_team_id"), body.get("context_enterprise_id")))
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, Mapping):
            pairs.append((authorization.get("team_id"), authorization.get("enterprise_id")))
    if _kind(body) == "interaction":
        team = body.get("team")
        enterprise = _id_of(body.get("enterprise"))
        if isinstance(team, Mapping):
            pairs.append((team.get("id"), team.get("enterprise_id") or enterprise))
        elif team is None:  # an org-wide install: the clicker's team is part of the installation's org
            pairs.append((_mapping(body.get("user")).get("team_id"), enterprise))
    known: dict[str, str] = {}
    for team_id, enterprise_id in pairs:
        team_text, enterprise_text = _text(team_id), _text(enterprise_id)
        if team_text and enterprise_text and not _is_enterprise(team_text):
            known.setdefault(team_text, enterprise_text)
    return known


def _event_person(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(user id, the person's own team or enterprise id) of an event."""
    event = _mapping(body.get("event"))
    user = _text(event.get("user"))
    team = (
        _text(event.get("user_team"))
        or _text(_mapping(event.get("user_profile")).get("team"))
        or _text(event.get("team"))
    )
    if team is None and body.get("is_ext_shared_channel") is not True:
        # Not a shared channel: the person is of the organisation the event was delivered for.
        enterprise, installed_team = installation_ids(body)
        team = installed_team or _text(body.get("team_id")) or enterprise
    return user, team


def _payload_person(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(user id, the person's own team or enterprise id) of any kind of payload."""
    kind = _kind(body)
    if kind == "event":
        return _event_person(body)
    if kind == "command":
        return _text(body.get("user_id")), _text(body.get("team_id")) or _text(body.get("enterprise_id"))
    user = body.get("user")
    team = (
        _text(_mapping(user).get("team_id"))
        or _id_of(body.get("team"))
        or _text(_mapping(body.get("view")).get("team_id"))
        or _id_of(body.get("enterprise"))
    )
    return _id_of(user), team


def person(body: Mapping[str, Any]) -> SlackPerson:
    """The person who sent ``body`` (a slash command, an interaction or an event).

    Raises :class:`InvalidUserKey` when the payload names no valid workspace or user."""
    user, team = _payload_person(body)
    if user is None or team is None:
        raise InvalidUserKey("this request names no Slack user")
    if _is_enterprise(team):
        return SlackPerson(UserKey.slack(team, user))
    enterprise = _organisations(body).get(team)
    if enterprise is None:
        return SlackPerson(UserKey.slack(team, user))
    return SlackPerson(UserKey.slack(enterprise, user), earlier_key=UserKey.slack(team, user))


def user_key(body: Mapping[str, Any]) -> UserKey:
    """The key of the person who sent ``body``; see :func:`person`."""
    return person(body).key


def workspace_id(body: Mapping[str, Any]) -> str | None:
    """The enterprise id, or else the team id, of the installation that received ``body``."""
    enterprise, team = installation_ids(body)
    return enterprise or team


def workspace_prefix(workspace: str) -> str:
    """The key prefix shared by every person of one installation, e.g. ``"slack:T0123:"``."""
    return UserKey.workspace_prefix(workspace)

"""The one place a Slack payload becomes a :class:`UserKey`.

A key is ``slack:<enterprise id or team id>:<user id>`` of the installation the request came through:
the Enterprise Grid organisation when there is one (its user ids are the same in every workspace of
the organisation), otherwise the workspace. Every handler - slash commands, buttons, events - asks this
module, so one person gets the same key on every path, and nothing a person can type or put in a
button value takes part in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import InvalidUserKey, UserKey


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: object) -> str | None:
    """An id given either as a string or as an object with an ``id`` (``{"id": "T123", ...}``)."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def installation_ids(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(enterprise id, team id) of the installation that received ``body``."""
    if body.get("type") == "event_callback":
        # Events name the installation they were delivered for in `authorizations` (this is what
        # keeps shared channels right); older payloads only carry the top-level ids.
        authorizations = body.get("authorizations")
        if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], Mapping):
            source: Mapping[str, Any] = authorizations[0]
        else:
            source = body
        return _text(source.get("enterprise_id")), _text(source.get("team_id"))
    if "command" in body:  # a slash command: flat form fields
        return _text(body.get("enterprise_id")), _text(body.get("team_id"))
    # Interactive payloads (block_actions, ...). With org-wide installs `team` can be null; the
    # clicking user's team is then the workspace.
    enterprise = _id_of(body.get("enterprise"))
    team = _id_of(body.get("team"))
    user = body.get("user")
    if team is None and isinstance(user, Mapping):
        team = _text(user.get("team_id"))
    return enterprise, team


def _user_id(body: Mapping[str, Any]) -> str | None:
    if body.get("type") == "event_callback":
        event = body.get("event")
        return _text(event.get("user")) if isinstance(event, Mapping) else None
    if "command" in body:
        return _text(body.get("user_id"))
    return _id_of(body.get("user"))


def workspace_id(body: Mapping[str, Any]) -> str | None:
    """The enterprise id, or else the team id, of the installation that received ``body``."""
    enterprise, team = installation_ids(body)
    return enterprise or team


def user_key(body: Mapping[str, Any]) -> UserKey:
    """The key of the person who sent ``body`` (a slash command, an interaction or an event).

    Raises :class:`InvalidUserKey` when the payload names no valid workspace or user."""
    workspace, user = workspace_id(body), _user_id(body)
    if workspace is None or user is None:
        raise InvalidUserKey("this request names no Slack user")
    return UserKey.slack(workspace, user)


def workspace_prefix(workspace: str) -> str:
    """The key prefix shared by every person of one installation, e.g. ``"slack:T0123:"``."""
    return UserKey.workspace_prefix(workspace)

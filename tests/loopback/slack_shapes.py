"""Slack payloads in the shapes Slack documents for each kind of request, for one person seen through
one installation. ``person`` is who acts; ``via`` is the installation that receives the payload (the
person's own, or a Slack Connect host's). Ids are made up; field layout follows Slack's formats."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

APP_ID = "ACUBBY"
BOT_USER = "UCUBBY"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Person:
    user: str
    team: str
    enterprise: str | None = None

    @property
    def dm_channel(self) -> str:
        return f"D{self.user}"


@dataclass(frozen=True)
class Installation:
    """Where Cubby is installed: a workspace, a workspace of a Grid org, or a whole org (org-wide)."""

    team: str | None
    enterprise: str | None = None

    @property
    def org_wide(self) -> bool:
        return self.team is None

    def holds(self, person: Person) -> bool:
        """True when ``person`` is a member of the organisation this installation is for."""
        return self.enterprise == person.enterprise and self.team in (None, person.team)

    @classmethod
    def of(cls, person: Person) -> Installation:
        return cls(person.team, person.enterprise)


def _enterprise_object(enterprise: str | None) -> dict[str, str] | None:
    return {"id": enterprise, "name": "Grid"} if enterprise else None


def command(person: Person, command: str = "/recall", text: str = "", **extra: Any) -> dict[str, Any]:
    """A slash command's form fields. Slash commands run through the person's own installation."""
    payload = {
        "token": "legacy-verification-token",
        "team_id": person.team,
        "team_domain": "example",
        "channel_id": extra.pop("channel", "C1"),
        "channel_name": "general",
        "user_id": person.user,
        "user_name": "someone",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": extra.pop("response_url", "https://hooks.slack.com/commands/1/2/3"),
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
    if person.enterprise:
        payload |= {"enterprise_id": person.enterprise, "enterprise_name": "Grid"}
    return payload | extra


def _interaction_team(person: Person, via: Installation, *, team_enterprise_only: bool) -> dict[str, Any]:
    """``team``/``enterprise`` of an interaction: org-wide installs send ``team: null``; some Grid
    payloads carry the enterprise only inside ``team``."""
    if via.org_wide:
        return {"team": None, "enterprise": _enterprise_object(via.enterprise), "is_enterprise_install": True}
    team: dict[str, Any] = {"id": via.team, "domain": "example"}
    if team_enterprise_only and via.enterprise:
        return {"team": team | {"enterprise_id": via.enterprise, "enterprise_name": "Grid"}}
    return {"team": team, "enterprise": _enterprise_object(via.enterprise), "is_enterprise_install": False}


def block_actions(
    person: Person,
    via: Installation | None = None,
    *,
    action: dict[str, Any] | None = None,
    team_enterprise_only: bool = False,
    response_url: str | None = "https://hooks.slack.com/actions/1/2/3",
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    via = via or Installation.of(person)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": person.user, "username": "someone", "name": "someone", "team_id": person.team},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": "1.2.3",
        **_interaction_team(person, via, team_enterprise_only=team_enterprise_only),
        "actions": [
            {
                "type": "button",
                "action_id": "cubby_recall_page",
                "value": "1",
                **(action or {}),
                "block_id": "b1",
                "action_ts": str(time.time()),
            }
        ],
    }
    if view is not None:
        payload |= {"container": {"type": "view", "view_id": "VHOME"}, "view": view}
    else:
        payload |= {
            "container": {"type": "message", "is_ephemeral": True, "channel_id": "C1"},
            "channel": {"id": "C1", "name": "general"},
            "response_url": response_url,
        }
    return payload


def view_submission(person: Person, via: Installation | None = None) -> dict[str, Any]:
    via = via or Installation.of(person)
    team_block = _interaction_team(person, via, team_enterprise_only=True)
    return {
        "type": "view_submission",
        "user": {"id": person.user, "username": "someone", "name": "someone", "team_id": person.team},
        "api_app_id": APP_ID,
        "trigger_id": "1.2.3",
        **team_block,
        "view": {
            "id": "VMODAL",
            "team_id": person.team,
            "app_installed_team_id": via.team or person.team,
            "type": "modal",
            "callback_id": "cubby_modal",
            "private_metadata": "",
            "state": {"values": {}},
        },
        "response_urls": [],
    }


def shortcut(person: Person, via: Installation | None = None, *, on_message: bool = False) -> dict[str, Any]:
    """A global shortcut, or a message shortcut (``message_action``) with ``on_message``."""
    via = via or Installation.of(person)
    payload: dict[str, Any] = {
        "type": "message_action" if on_message else "shortcut",
        "callback_id": "cubby_shortcut",
        "trigger_id": "1.2.3",
        "action_ts": str(time.time()),
        "user": {"id": person.user, "username": "someone", "team_id": person.team},
        "token": "legacy-verification-token",
        **_interaction_team(person, via, team_enterprise_only=False),
    }
    if on_message:
        payload |= {
            "channel": {"id": "C1", "name": "general"},
            "message": {"type": "message", "user": "U0OTHER", "ts": "1.000100", "text": "hello"},
            "response_url": "https://hooks.slack.com/app/1/2/3",
        }
    return payload


def event_callback(
    person: Person,
    event: dict[str, Any],
    via: Installation | None = None,
    *,
    shared: bool | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An Events API envelope. ``via`` is the installation it is delivered for (``authorizations``);
    in a Slack Connect channel that can be the host's while the actor is a guest."""
    via = via or Installation.of(person)
    payload: dict[str, Any] = {
        "token": "legacy-verification-token",
        "team_id": via.team or person.team,
        "enterprise_id": via.enterprise,
        "context_team_id": via.team,
        "context_enterprise_id": via.enterprise,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": via.enterprise,
                "team_id": via.team,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": via.org_wide,
            }
        ],
        "is_ext_shared_channel": shared if shared is not None else not via.holds(person),
    }
    if via.enterprise is None:
        del payload["enterprise_id"], payload["context_enterprise_id"]
    return payload


def _stamp() -> str:
    return f"{time.time():.6f}"


def message_event(person: Person, text: str, channel: str | None = None, **extra: Any) -> dict[str, Any]:
    """A person's message; in a DM with Cubby unless ``channel`` is given."""
    ts = _stamp()
    event = {
        "type": "message",
        "channel": channel or person.dm_channel,
        "channel_type": "channel" if channel else "im",
        "user": person.user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": person.team,
        "user_team": person.enterprise or person.team,
        "source_team": person.team,
        "user_profile": {"real_name": "Someone", "team": person.team},
    }
    return event | extra


def mention_event(person: Person, text: str, channel: str = "C1", **extra: Any) -> dict[str, Any]:
    ts = _stamp()
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": person.user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "event_ts": ts,
        "team": person.team,
        "user_team": person.enterprise or person.team,
        "source_team": person.team,
    }
    return event | extra


def home_opened_event(person: Person) -> dict[str, Any]:
    """``app_home_opened`` names only the user: Home tabs are per installation."""
    ts = _stamp()
    return {"type": "app_home_opened", "user": person.user, "channel": person.dm_channel, "tab": "home"} | {
        "event_ts": ts
    }

"""Driving the real Cubby Slack app over HTTP the way Slack does: correctly signed requests, then
waiting for what the app sends back to the fake Slack. One call per step keeps each test short."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bots.slack.app import SlackBot
from tests.loopback.slack_api import APP_ID, BOT_USER, Call, FakeSlack

SIGNING_SECRET = "cubby-test-signing-secret"
_event_ids = itertools.count(1)


@dataclass(frozen=True)
class Person:
    user: str
    team: str
    enterprise: str | None = None

    @property
    def dm_channel(self) -> str:
        return f"D{self.user}"


def signature_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


# -- payloads --------------------------------------------------------------------------------------
def command_payload(person: Person, command: str, text: str, response_url: str, channel: str = "C1") -> dict:
    payload = {
        "token": "legacy-verification-token",
        "team_id": person.team,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": person.user,
        "user_name": "someone",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
    if person.enterprise:
        payload |= {"enterprise_id": person.enterprise, "enterprise_name": "Grid"}
    return payload


def block_actions_payload(
    person: Person, button: dict, *, response_url: str | None = None, view: dict | None = None
) -> dict:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": person.user, "team_id": person.team, "username": "someone"},
        "api_app_id": APP_ID,
        "team": {"id": person.team, "domain": "example"},
        "enterprise": {"id": person.enterprise, "name": "Grid"} if person.enterprise else None,
        "trigger_id": "1.2.3",
        "actions": [{**button, "block_id": "b1", "action_ts": str(time.time())}],
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


def message_action_payload(
    person: Person, message: dict, response_url: str, *, channel: str = "C1", callback_id: str
) -> dict:
    """The payload Slack sends when ``person`` picks a message shortcut on ``message``."""
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": str(time.time()),
        "team": {"id": person.team, "domain": "example"},
        "user": {"id": person.user, "username": "someone", "team_id": person.team, "name": "someone"},
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": {"id": person.enterprise, "name": "Grid"} if person.enterprise else None,
        "callback_id": callback_id,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": message,
    }


def channel_message(author: Person | None, text: str, **fields: Any) -> dict:
    """A message as it appears in a channel (``author`` None: a bot's message, with ``bot_id``)."""
    ts = f"{time.time():.6f}"
    message: dict[str, Any] = {"type": "message", "text": text, "ts": ts}
    if author is None:
        message |= {"subtype": "bot_message", "bot_id": "B0OTHER"}
    else:
        message |= {"user": author.user, "team": author.team, "client_msg_id": "c0ffee00-0000"}
    return message | fields


def event_payload(person: Person, event: dict, *, event_id: str | None = None) -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": person.team,
        "enterprise_id": person.enterprise,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": person.enterprise,
                "team_id": person.team,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


# -- reading what Cubby sent -----------------------------------------------------------------------
def texts_in(value: Any) -> list[str]:
    """Every string under a ``text`` key, anywhere in a message, view or payload."""
    if isinstance(value, dict):
        return [
            text
            for key, item in value.items()
            for text in ([item] if key == "text" and isinstance(item, str) else texts_in(item))
        ]
    if isinstance(value, list):
        return [t for item in value for t in texts_in(item)]
    return []


def text_of(message: dict) -> str:
    return "\n".join(texts_in(message))


def buttons_in(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks", []):
        candidates = [block.get("accessory"), *block.get("elements", [])]
        found += [c for c in candidates if isinstance(c, dict) and c.get("type") == "button"]
    return found


def button(message: dict, action_id: str, value: str | None = None) -> dict:
    matches = [b for b in buttons_in(message) if b["action_id"] == action_id and value in (None, b["value"])]
    assert matches, f"no {action_id} button (value {value!r}) in {json.dumps(message)[:500]}"
    return matches[0]


# -- the harness -----------------------------------------------------------------------------------
class SlackHarness:
    def __init__(self, fake: FakeSlack, bot: SlackBot, url: str, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.bot = bot
        self.url = url
        self.session = session

    async def post(
        self, body: str, *, content_type: str, headers: dict[str, str] | None = None, signed: bool = True
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **(signature_headers(body) if signed else {})}
        all_headers |= headers or {}
        async with self.session.post(
            f"{self.url}/slack/events", data=body.encode(), headers=all_headers
        ) as response:
            return response.status, await response.text()

    async def post_form(self, form: dict, **kwargs: Any) -> tuple[int, str]:
        return await self.post(urlencode(form), content_type="application/x-www-form-urlencoded", **kwargs)

    async def post_json(self, payload: dict, **kwargs: Any) -> tuple[int, str]:
        return await self.post(json.dumps(payload), content_type="application/json", **kwargs)

    async def _expect_response(self, form: dict, response_url: str) -> dict:
        mark = len(self.fake.calls)
        status, _ = await self.post_form(form)
        assert status == 200
        call = await self.fake.wait_for(
            lambda c: c.method == "response_url" and response_url.endswith(c.path), after=mark
        )
        return call.params

    async def command(self, person: Person, command: str, text: str = "", channel: str = "C1") -> dict:
        """Type ``command text`` as ``person``; the reply Cubby sent to the command's response_url."""
        response_url = self.fake.response_url()
        return await self._expect_response(
            command_payload(person, command, text, response_url, channel), response_url
        )

    async def click(self, person: Person, message: dict, action_id: str, value: str | None = None) -> dict:
        """Click a button of an ephemeral message; the message Cubby replaced it with."""
        return await self.click_button(person, button(message, action_id, value))

    async def click_button(self, person: Person, element: dict) -> dict:
        """Send a click on ``element`` (possibly crafted, not taken from any message Cubby sent)."""
        response_url = self.fake.response_url()
        payload = block_actions_payload(person, element, response_url=response_url)
        return await self._expect_response({"payload": json.dumps(payload)}, response_url)

    async def shortcut(
        self, person: Person, message: dict, *, channel: str = "C1", callback_id: str = "cubby_remember_this"
    ) -> dict:
        """``person`` picks a message shortcut on ``message``; what Cubby sent to its response_url."""
        response_url = self.fake.response_url()
        payload = message_action_payload(
            person, message, response_url, channel=channel, callback_id=callback_id
        )
        return await self._expect_response({"payload": json.dumps(payload)}, response_url)

    async def click_home(self, person: Person, view: dict, action_id: str, value: str | None = None) -> dict:
        """Click a button on ``person``'s Home tab; the Home view Cubby published next."""
        payload = block_actions_payload(person, button(view, action_id, value), view=view)
        mark = len(self.fake.calls)
        status, _ = await self.post_form({"payload": json.dumps(payload)})
        assert status == 200
        return (await self._published_for(person, mark)).params["view"]

    async def submit_view(self, person: Person, view: dict, values: dict) -> tuple[int, str]:
        """Submit a modal Cubby opened (``views.open``'s view) with these input ``values``
        (``{block_id: {action_id: text}}``); Slack's HTTP status and Cubby's ack body."""
        state = {
            block: {action: {"type": "plain_text_input", "value": text} for action, text in inputs.items()}
            for block, inputs in values.items()
        }
        payload = {
            "type": "view_submission",
            "user": {"id": person.user, "team_id": person.team, "username": "someone"},
            "api_app_id": APP_ID,
            "team": {"id": person.team, "domain": "example"},
            "enterprise": {"id": person.enterprise, "name": "Grid"} if person.enterprise else None,
            "trigger_id": "4.5.6",
            "view": {**view, "id": "VMODAL", "state": {"values": state}},
        }
        return await self.post_form({"payload": json.dumps(payload)})

    async def event(
        self, person: Person, event: dict, *, event_id: str | None = None, retry: int | None = None
    ) -> int:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        status, _ = await self.post_json(event_payload(person, event, event_id=event_id), headers=headers)
        return status

    async def dm(self, person: Person, text: str, *, event_id: str | None = None) -> Call:
        """``person`` writes to Cubby in their DM; Cubby's threaded answer there."""
        mark = len(self.fake.calls)
        ts = f"{time.time():.6f}"
        event = {"type": "message", "channel_type": "im", "channel": person.dm_channel, "user": person.user}
        event |= {"text": text, "ts": ts, "event_ts": ts}
        assert await self.event(person, event, event_id=event_id) == 200
        return await self.fake.wait_for(
            lambda c: c.method == "chat.postMessage" and c.params.get("thread_ts") == ts, after=mark
        )

    async def mention(self, person: Person, text: str, channel: str = "C1") -> Call:
        """``person`` mentions Cubby in a channel; Cubby's answer (whatever method it used)."""
        mark = len(self.fake.calls)
        ts = f"{time.time():.6f}"
        event = {"type": "app_mention", "channel": channel, "user": person.user, "ts": ts, "event_ts": ts}
        event["text"] = f"<@{BOT_USER}> {text}"
        assert await self.event(person, event) == 200
        return await self.fake.wait_for(
            lambda c: c.method.startswith("chat.post") and c.params.get("thread_ts") == ts, after=mark
        )

    async def open_home(self, person: Person) -> dict:
        """``person`` opens Cubby's Home tab; the view Cubby published for them."""
        mark = len(self.fake.calls)
        event = {"type": "app_home_opened", "user": person.user, "channel": person.dm_channel, "tab": "home"}
        assert await self.event(person, event) == 200
        return (await self._published_for(person, mark)).params["view"]

    async def _published_for(self, person: Person, mark: int) -> Call:
        return await self.fake.wait_for(
            lambda c: c.method == "views.publish" and c.params.get("user_id") == person.user, after=mark
        )

    async def settle(self) -> None:
        """Wait until every piece of work Cubby started has finished."""
        assert await self.bot.services.work.idle(15)

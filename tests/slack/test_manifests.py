"""The app manifests ask for exactly the scopes, events and commands Cubby uses."""

from pathlib import Path

import pytest
import yaml

from bots.slack.app import BOT_SCOPES
from bots.slack.listeners import LISTENERS

MANIFESTS = Path(__file__).resolve().parents[2] / "bots" / "slack"
# The manifest subscribes to the DM flavour of ``message`` only.
EVENTS = {"message.im" if e.matches == "message" else e.matches for e in LISTENERS if e.kind == "event"}
COMMANDS = {listener.matches for listener in LISTENERS if listener.kind == "command"}
SHORTCUTS = {listener.matches for listener in LISTENERS if listener.kind == "shortcut"}


def test_the_listener_table_holds_every_event_and_command_once_as_top_level_handlers() -> None:
    assert {"app_home_opened", "app_mention", "app_uninstalled", "message.im", "tokens_revoked"} == EVENTS
    assert {"/remember", "/recall", "/forget", "/cubby"} == COMMANDS
    assert {"cubby_remember_this"} == SHORTCUTS
    assert len({(listener.kind, listener.matches) for listener in LISTENERS}) == len(LISTENERS)
    assert all(listener.handler.__qualname__ == listener.handler.__name__ for listener in LISTENERS)


@pytest.mark.parametrize(("name", "socket_mode"), [("manifest.yml", True), ("manifest-http.yml", False)])
def test_a_manifest_matches_what_the_app_uses(name: str, socket_mode: bool) -> None:
    manifest = yaml.safe_load((MANIFESTS / name).read_text())

    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == EVENTS
    assert {command["command"] for command in manifest["features"]["slash_commands"]} == COMMANDS
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    shortcuts = manifest["features"]["shortcuts"]
    assert {(s["type"], s["callback_id"], s["name"]) for s in shortcuts} == {
        ("message", callback_id, "Remember this") for callback_id in SHORTCUTS
    }
    assert all(len(s["description"]) <= 80 for s in shortcuts)  # Slack's limit
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is socket_mode
    if not socket_mode:
        assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
        assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")

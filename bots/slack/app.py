"""Building Cubby's Bolt ``AsyncApp`` from :class:`Settings`, with its dependencies injected.

Three ways to run, chosen from the settings alone:

- ``socket``: ``SLACK_APP_TOKEN`` is set. Socket Mode with ``SLACK_BOT_TOKEN``, one workspace, no
  public URL.
- ``http``: no app token; ``SLACK_SIGNING_SECRET`` + ``SLACK_BOT_TOKEN``. One workspace over HTTP.
- ``oauth``: no app token; ``SLACK_SIGNING_SECRET`` + ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``.
  Any number of workspaces install Cubby through ``/slack/install``; their tokens are kept in an
  installation store under the data dir.

Every value is passed to Bolt explicitly: Bolt would otherwise read some ``SLACK_*`` variables from
the environment itself, and ``core.config`` is the one place configuration is read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.actions import register_message_actions
from bots.slack.conversation import register_conversation
from bots.slack.dedupe import drop_repeated_events
from bots.slack.home import register_home
from bots.slack.services import Services
from bots.slack.slash import register_commands
from bots.slack.uninstall import register_uninstall
from core import Agent, ConfigError, Hub, Settings, logs

log = logging.getLogger(__name__)

Mode = Literal["socket", "http", "oauth"]

# Exactly what the listeners use; manifest.yml and manifest-http.yml list the same.
BOT_SCOPES = ("app_mentions:read", "chat:write", "commands", "files:write", "im:history", "im:write")
DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"


def choose_mode(settings: Settings) -> Mode:
    """How to connect to Slack, or :class:`ConfigError` naming what to set."""
    has_client_id = settings.slack_client_id is not None
    has_client_secret = settings.slack_client_secret is not None
    if has_client_id != has_client_secret:
        raise ConfigError("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, or neither")
    if settings.slack_app_token is not None:
        if settings.slack_bot_token is None:
            raise ConfigError("Socket Mode (SLACK_APP_TOKEN is set) also needs SLACK_BOT_TOKEN")
        if has_client_id:
            raise ConfigError(
                "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are for installing Cubby in many workspaces over "
                "HTTP; unset them for Socket Mode, or unset SLACK_APP_TOKEN to run over HTTP"
            )
        return "socket"
    if settings.slack_signing_secret is None:
        raise ConfigError(
            "set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or SLACK_SIGNING_SECRET with "
            "SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (HTTP)"
        )
    if has_client_id:
        return "oauth"
    if settings.slack_bot_token is None:
        raise ConfigError("HTTP mode needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID/SECRET to install via OAuth)")
    return "http"


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def _authorization_url(api: str) -> str:
    # The install page's authorize link lives next to the Web API (slack.com, slack-gov.com, a proxy).
    base = api[: -len("api/")] if api.endswith("/api/") else "https://slack.com/"
    return base + "oauth/v2/authorize"


def _private_dir(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # it holds bot tokens
    return str(path)


def installation_store(settings: Settings) -> FileInstallationStore:
    """Where OAuth installations (each workspace's bot token) are kept: ``<data dir>/slack/``."""
    return FileInstallationStore(
        base_dir=_private_dir(settings.data_dir / "slack" / "installations"),
        client_id=settings.slack_client_id,
        historical_data_enabled=False,
    )


@dataclass(frozen=True)
class SlackBot:
    app: AsyncApp
    services: Services
    mode: Mode


def secret_value(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _bolt_logger() -> logging.Logger:
    # Bolt copies this logger's level (and filters) into every logger it makes, including the one it
    # makes for each request and hands to the Web API and Socket Mode clients. Without it, each copies
    # the root's level, and at DEBUG they log whole request bodies and frames.
    return logs.library_logger("slack_bolt.AsyncApp")


def build_bot(hub: Hub, agent: Agent, settings: Settings) -> SlackBot:
    mode = choose_mode(settings)
    services = Services(hub=hub, agent=agent)
    base_url = api_url(settings)
    if mode == "oauth":
        if settings.slack_bot_token is not None:
            log.warning(
                "SLACK_BOT_TOKEN is not used with OAuth: each workspace's token is its installation's"
            )
        client = AsyncWebClient(base_url=base_url)
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=secret_value(settings.slack_client_secret),
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            installation_store=installation_store(settings),
            installation_store_bot_only=True,
            state_store=FileOAuthStateStore(
                expiration_seconds=600,
                base_dir=_private_dir(settings.data_dir / "slack" / "oauth-state"),
            ),
            authorization_url=_authorization_url(base_url),
        )
        app = AsyncApp(
            name=logs.BOLT_APP_NAME,  # the logs module withholds the loggers Bolt names after it
            client=client,
            signing_secret=secret_value(settings.slack_signing_secret),
            oauth_settings=oauth,
            installation_store_bot_only=True,
            logger=_bolt_logger(),
        )
    else:
        app = AsyncApp(
            name=logs.BOLT_APP_NAME,  # the logs module withholds the loggers Bolt names after it
            token=secret_value(settings.slack_bot_token),
            signing_secret=secret_value(settings.slack_signing_secret),
            logger=_bolt_logger(),
        )
        # Given a token (not a client), Bolt builds its own client; passing a client instead makes it
        # warn that the token from the environment is ignored. The base URL is a plain attribute.
        app.client.base_url = base_url

    app.middleware(drop_repeated_events(services.seen_events))
    register_commands(app, services)
    register_message_actions(app, services)
    register_home(app, services)
    register_conversation(app, services)
    register_uninstall(app, services)

    @app.error
    async def unexpected(error: Exception) -> None:
        # Anything the listeners did not handle themselves; the message could quote a payload.
        log.error("unhandled error in the Slack app: %s", type(error).__name__)

    logs.cap_library_loggers()  # Bolt has made its loggers by now
    return SlackBot(app, services, mode)

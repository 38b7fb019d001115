"""Building Cubby's Bolt ``AsyncApp`` from :class:`Settings`, with its dependencies injected.

Three ways to run, chosen from the settings alone:

- ``socket``: ``SLACK_APP_TOKEN`` is set. Socket Mode with ``SLACK_BOT_TOKEN``, one workspace, no
  public URL.
- ``http``: no app token; ``SLACK_SIGNING_SECRET`` + ``SLACK_BOT_TOKEN``. One workspace over HTTP.
- ``oauth``: no app token; ``SLACK_SIGNING_SECRET`` + ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``.
  Any number of workspaces install Cubby through ``/slack/install``; their tokens are kept, sealed,
  in the shared state (:mod:`bots.slack.installations`), so any number of workers can serve them.

Every value is passed to Bolt explicitly: Bolt would otherwise read some ``SLACK_*`` variables from
the environment itself, and ``core.config`` is the one place configuration is read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.dedupe import EventClaims, drop_repeated_events
from bots.slack.installations import SharedInstallationStore, SharedOAuthStateStore
from bots.slack.listeners import register_listeners
from bots.slack.services import Services
from core import Agent, ConfigError, Hub, Settings, SharedState, logs, open_shared_state

log = logging.getLogger(__name__)

Mode = Literal["socket", "http", "oauth"]

# Exactly what the listeners use; manifest.yml and manifest-http.yml list the same.
BOT_SCOPES = (
    "app_mentions:read",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "im:history",
    "im:write",
    "users:read",
)
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


def installation_store(settings: Settings, shared: SharedState) -> SharedInstallationStore:
    """Where OAuth installations (each workspace's bot token) are kept: the shared state. Files an
    older Cubby kept under ``<data dir>/slack/installations`` are moved in on first use."""
    assert settings.slack_client_id is not None
    legacy = settings.data_dir / "slack" / "installations"
    return SharedInstallationStore(shared, client_id=settings.slack_client_id, legacy_dir=legacy)


@dataclass(frozen=True)
class SlackBot:
    app: AsyncApp
    services: Services
    mode: Mode
    shared: SharedState  # closed by whoever runs the bot, after the listeners are done


def secret_value(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _bolt_logger() -> logging.Logger:
    # Bolt copies this logger's level (and filters) into every logger it makes, including the one it
    # makes for each request and hands to the Web API and Socket Mode clients. Without it, each copies
    # the root's level, and at DEBUG they log whole request bodies and frames.
    return logs.library_logger("slack_bolt.AsyncApp")


def build_bot(hub: Hub, agent: Agent, settings: Settings, shared: SharedState | None = None) -> SlackBot:

    mode = choose_mode(settings)
    shared = open_shared_state(settings) if shared is None else shared
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
            installation_store=installation_store(settings, shared),
            installation_store_bot_only=True,
            state_store=SharedOAuthStateStore(shared, expiration_seconds=600),
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

    services.installation_store = app.installation_store
    register_listeners(app, services)
    app.middleware(drop_repeated_events(EventClaims(shared)))

    @app.error
    async def unexpected(error: Exception) -> None:
        # Anything the listeners did not handle themselves; the message could quote a payload.
        log.error("unhandled error in the Slack app: %s", type(error).__name__)

    logs.cap_library_loggers()  # Bolt has made its loggers by now
    return SlackBot(app, services, mode, shared)

"""What every Slack listener is given, and the one way listeners run their work.

:meth:`Services.handle` runs a piece of work after Slack has been acknowledged: it counts the work as
in flight (so shutdown can wait for it), and turns any failure into a short apology for the person and
a log line that names the error's type only - exception messages may quote memory text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.webhook import WebhookResponse

from bots.shutdown import InFlight
from bots.slack import blocks, identity
from core import (
    Agent,
    BackendUnavailable,
    CubbyError,
    Hub,
    InvalidInput,
    InvalidUserKey,
    ScopedMemory,
    replies,
)

log = logging.getLogger(__name__)

Apologize = Callable[[str], Awaitable[Any]]
Respond = Callable[..., Awaitable[WebhookResponse]]


def slack_error_code(error: SlackApiError) -> str:
    """Slack's error code ("channel_not_found", ...), which carries no memory text; or the HTTP status."""
    data = getattr(error.response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return f"HTTP {getattr(error.response, 'status_code', '?')}"


_CONTEXT_KEY = "cubby_services"


@dataclass
class Services:
    hub: Hub
    agent: Agent
    work: InFlight = field(default_factory=InFlight)
    # OAuth mode's stored installations; None for a single-workspace bot (tokens from the environment).
    installation_store: AsyncInstallationStore | None = None

    def provide_to(self, context: AsyncBoltContext) -> None:
        """Put these services in a request's context, where :func:`services_of` finds them."""
        context[_CONTEXT_KEY] = self

    async def memory_of(self, body: Mapping[str, Any]) -> ScopedMemory:
        """The memory of the person who sent ``body`` - and nobody else's.

        When the payload proves the person's workspace is part of an Enterprise Grid org, whatever
        they still have under the workspace's key is moved to their org key first (a count when
        there is nothing; any request of theirs waits for a move, so a forget always sees them). If
        the move fails, the request goes on with the org key and the next one tries again."""
        person = identity.person(body)
        if person.earlier_key is not None:
            try:
                moved = await self.hub.migrate(person.earlier_key, person.key)
            except CubbyError as error:
                log.warning("could not move a person's memories to their Grid key: %s", type(error).__name__)
            else:
                if moved:
                    log.info("moved %d memories of one person to their Enterprise Grid key", moved)
        return self.hub.scoped(person.key)

    def earlier_memory_of(self, body: Mapping[str, Any]) -> ScopedMemory | None:
        """What the sender may still have under their workspace's key from before it joined their
        Grid org (only when ``body`` proves that), so that forgetting everything erases it even if
        it could not be moved."""
        earlier = identity.person(body).earlier_key
        return self.hub.scoped(earlier) if earlier is not None else None

    async def handle(
        self,
        what: str,
        work: Callable[[], Awaitable[None]],
        apologize: Apologize,
        *,
        usage: str | None = None,
    ) -> None:
        """Run ``work``; on failure, log the error type and ``apologize`` to the person.

        ``usage`` is added to the apology when the person's input was refused."""
        async with self.work.running():
            try:
                await work()
                return
            except (InvalidInput, InvalidUserKey) as error:
                log.info("%s: refused input (%s)", what, type(error).__name__)
                message = replies.describe_error(error) + (f"\nUsage: {usage}" if usage else "")
            except BackendUnavailable as error:
                log.warning("%s: memory backend unavailable", what)
                message = replies.describe_error(error)
            except CubbyError as error:
                log.warning("%s: %s", what, type(error).__name__)
                message = replies.describe_error(error)
            except SlackApiError as error:
                log.warning("%s: Slack API error %s", what, slack_error_code(error))
                message = replies.describe_error(error)
            except Exception as error:
                log.error("%s failed: %s", what, type(error).__name__)
                message = replies.describe_error(error)
            try:
                await apologize(message)
            except Exception as error:
                log.error("%s: could not deliver the apology: %s", what, type(error).__name__)


def services_of(context: AsyncBoltContext) -> Services:
    """The services of the app that received this request (set by the app's first middleware)."""
    services = context[_CONTEXT_KEY]
    assert isinstance(services, Services)
    return services


async def respond_privately(respond: Respond, message: Mapping[str, Any], *, replace: bool = False) -> None:
    """Answer through the request's ``response_url``, visible only to the person who asked."""
    response = await respond(**message, response_type="ephemeral", replace_original=replace)
    if response.status_code != 200:
        log.warning("Slack refused a response_url reply (HTTP %s)", response.status_code)


def apologize_privately(respond: Respond, *, replace: bool = False) -> Apologize:
    """An apology for :meth:`Services.handle`, through the request's ``response_url`` and seen only by
    the person; ``replace`` puts it in place of the message a button was on."""

    async def apologize(message: str) -> None:
        await respond_privately(respond, blocks.notice(message), replace=replace)

    return apologize

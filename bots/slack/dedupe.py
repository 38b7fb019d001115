"""Process each Events API event once, however many workers receive its deliveries.

Slack re-sends an event (with ``X-Slack-Retry-Num``) when it did not see our acknowledgement in time,
and Bolt does not deduplicate. Every delivery of one event carries the same ``event_id``, and behind a
load balancer each may reach a different worker, so the middleware below claims the id in the shared
state: the first claim runs the listeners, every later delivery is acknowledged and stops there. It
runs after Bolt's signature check, so an unsigned request can never claim an id.

Slack retries within minutes, so a claim lasts an hour. If the shared state cannot be reached the
event is processed anyway: answering a retry twice is better than answering nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.response import BoltResponse

from core import SharedState

log = logging.getLogger(__name__)

EVENT_CLAIMS = "slack-event"
CLAIM_SECONDS = 3600.0


class EventClaims:
    def __init__(self, state: SharedState, *, ttl_seconds: float = CLAIM_SECONDS) -> None:
        self._state = state
        self.ttl_seconds = ttl_seconds

    async def first_time(self, event_id: str) -> bool:
        """True for the first delivery of ``event_id`` to any worker (within the TTL)."""
        try:
            return await self._state.claim(EVENT_CLAIMS, event_id, ttl_seconds=self.ttl_seconds)
        except ValueError:
            return True  # not an id Slack would send (too long, NUL): nothing to deduplicate against
        except Exception as error:
            log.warning("could not check an event for repeats (%s); processing it", type(error).__name__)
            return True


def drop_repeated_events(claims: EventClaims) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt global middleware that acknowledges repeated deliveries of an event and stops there."""

    async def drop_repeated_event(
        body: Mapping[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not await claims.first_time(event_id):
            log.info("ignored a repeated delivery of an event")
            return BoltResponse(status=200, body="")
        await next()
        return None

    return drop_repeated_event

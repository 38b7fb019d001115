"""Process each Events API event once.

Slack re-sends an event (with ``X-Slack-Retry-Num``) when it did not see our acknowledgement in time,
and Bolt does not deduplicate. Every delivery of one event carries the same ``event_id``, so the
middleware below lets the first through and acknowledges the rest without running any listener. It
runs after Bolt's signature check, so an unsigned request can never mark an id as seen.

The memory of seen ids is per process and bounded; Slack retries within minutes, so an hour is ample.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


class SeenEvents:
    def __init__(self, *, capacity: int = 20_000, ttl_seconds: float = 3600.0) -> None:
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str, now: float | None = None) -> bool:
        """True the first time ``event_id`` is offered (within the TTL), False on every repeat."""
        now = time.monotonic() if now is None else now
        while self._seen:
            oldest_id, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.ttl_seconds and len(self._seen) < self.capacity:
                break
            del self._seen[oldest_id]
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


def drop_repeated_events(seen: SeenEvents) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt global middleware that acknowledges repeated deliveries of an event and stops there."""

    async def drop_repeated_event(
        body: Mapping[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not seen.first_time(event_id):
            log.info("ignored a repeated delivery of an event")
            return BoltResponse(status=200, body="")
        await next()
        return None

    return drop_repeated_event

"""Prometheus metrics for operating Cubby: what it served, how long that took, what failed, what it
erased.

Every label takes its value from a small fixed vocabulary - the platform (``slack``, ``discord``,
``cli``), the command kind, the error class - never from a user id, a workspace id, a memory id or
any text, so no scrape can tell who used Cubby or for what. The metrics live in a registry of their
own (not the library's global one), which the health server renders at ``/metrics``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from core import errors
from core.keys import PLATFORMS

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = ("remember", "recall", "plan_forget", "forget_one", "forget_everything", "export", "message")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

COMMANDS_SERVED = Counter(
    "cubby_commands", "Commands served, by platform and kind", ["platform", "command"], registry=REGISTRY
)
COMMAND_ERRORS = Counter(
    "cubby_command_errors",
    "Commands that ended in an error, by platform, kind and error class",
    ["platform", "command", "error"],
    registry=REGISTRY,
)
COMMAND_SECONDS = Histogram(
    "cubby_command_duration_seconds",
    "Time to serve a command in the core (memory store, embedding, LLM), by platform and kind",
    ["platform", "command"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ERASURES = Counter(
    "cubby_erasures",
    "Erasures carried out: kind=everything (a person's whole memory) or one (a single memory)",
    ["platform", "kind"],
    registry=REGISTRY,
)
MEMORIES_ERASED = Counter(
    "cubby_memories_erased", "Memories erased, by platform", ["platform"], registry=REGISTRY
)

_KNOWN_ERRORS = {
    cls.__name__
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.CubbyError)
} | {"ConfigError"}


class _Keyed(Protocol):
    @property
    def key(self) -> Any: ...


def _platform(memory: _Keyed) -> str:
    platform = str(getattr(memory.key, "platform", ""))
    return platform if platform in PLATFORMS else "other"


def error_label(error: BaseException) -> str:
    """Cubby's own error classes by name; anything else is ``internal`` (bounded label values)."""
    name = type(error).__name__
    return name if name in _KNOWN_ERRORS else "internal"


@contextmanager
def observe(platform: str, command: str) -> Iterator[None]:
    """Count one ``command`` on ``platform``, time it, and count its error if it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        COMMAND_ERRORS.labels(platform, command, error_label(error)).inc()
        raise
    finally:
        served, seconds = _command_series(platform, command)
        served.inc()
        seconds.observe(time.perf_counter() - started)


@functools.cache
def _command_series(platform: str, command: str) -> tuple[Any, Any]:
    """The counter and histogram of one platform's command, looked up once (``labels`` takes a lock
    and builds a key on every call; there are a few dozen pairs, and they live as long as the process)."""
    return COMMANDS_SERVED.labels(platform, command), COMMAND_SECONDS.labels(platform, command)


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def measured(command: str) -> Callable[[F], F]:
    """Decorate an async command whose first argument is the person's ScopedMemory."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        async def run(memory: _Keyed, *args: Any, **kwargs: Any) -> Any:
            with observe(_platform(memory), command):
                return await function(memory, *args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def erased(memory: _Keyed, kind: str, count: int) -> None:
    """Record an erasure that removed ``count`` memories (nothing is recorded for zero)."""
    if count <= 0:
        return
    platform = _platform(memory)
    ERASURES.labels(platform, kind).inc()
    MEMORIES_ERASED.labels(platform).inc(count)


def render() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

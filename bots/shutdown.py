"""The one shutdown path of every chat adapter: a signal -> stop taking work -> drain the work already
taken -> close.

A person whose command was acknowledged must still get its answer, and a forget that started must
finish before the hub closes under it; so an adapter counts the work it has taken (:class:`InFlight`)
and, once stopped, waits up to :data:`DRAIN_SECONDS` for it before closing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Iterator

DRAIN_SECONDS = 10.0


class InFlight:
    """Counts work started after an acknowledgement, so shutdown (and tests) can wait for it."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def idle(self, timeout: float) -> bool:
        """Wait until no work is running; False if some was still running after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while inside the block (where the loop supports signals)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)

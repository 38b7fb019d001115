"""Embedding ahead of mem0, in batches.

One model call per text spends much of its time on per-call overhead. When people arrive faster
than the model keeps up, the texts waiting are sent together, up to ``max_batch`` per call, with at
most ``parallel`` calls running (one per embedding thread). With nobody waiting, a text goes alone
at once, so a quiet bot answers as fast as before.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor


class EmbedQueue:
    def __init__(
        self,
        embed: Callable[[list[str]], None],
        executor: Executor,
        *,
        max_batch: int = 16,
        parallel: int = 2,
    ) -> None:
        self._embed = embed
        self._executor = executor
        self._max_batch = max_batch
        self._parallel = parallel
        self._waiting: deque[tuple[list[str], asyncio.Future[None]]] = deque()
        self._running = 0

    async def embed(self, texts: list[str]) -> None:
        """Return once ``texts`` are embedded (into the embedder's cache); raises what the model raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((texts, done))
        self._start_batches()
        await done

    def _start_batches(self) -> None:
        while self._running < self._parallel and self._waiting:
            batch = [self._waiting.popleft()]
            size = len(batch[0][0])
            while self._waiting and size + len(self._waiting[0][0]) <= self._max_batch:
                size += len(self._waiting[0][0])
                batch.append(self._waiting.popleft())
            self._running += 1
            asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[tuple[list[str], asyncio.Future[None]]]) -> None:
        texts = [text for item, _ in batch for text in item]
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._embed, texts)
        except Exception as error:
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
        finally:
            self._running -= 1
            self._start_batches()

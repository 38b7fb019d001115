"""Many workers on one store: three Cubby Slack HTTP workers (real Bolt apps, each with its own hub and
its own connection to the shared state) on one data dir - or one PostgreSQL database - and one fake
Slack on 127.0.0.1.

Figures:
- an OAuth install made through worker 1, then a slash command for that workspace on every worker:
  how many served it;
- events delivered as Slack retries them, each delivery to another worker, and the same again with all
  deliveries racing at once: answers per event (duplicates and unanswered counted);
- the cost of the shared de-duplication: one claim on the shared store against one on a table in this
  process's memory (what a single worker could use), and the acknowledgement of a repeated delivery
  through a worker on each.

    python -m bench.perf.workers [--events 200] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation

from bench.perf.stats import summary
from bots.slack.app import build_bot, installation_store
from bots.slack.dedupe import EventClaims
from bots.slack.runner import start_http
from core import Agent, Settings, SharedState, load_settings, open_hub
from core.secrets_box import open_box
from tests.loopback.slack_api import FakeSlack
from tests.loopback.slack_harness import SIGNING_SECRET, Person, SlackHarness, event_payload, text_of
from tests.loopback.slack_workers import install_across, settle_all, slack_workers

WORKSPACE = Person("U0BENCH", "T0BENCH")
_numbers = itertools.count(1)


class MemoryTable:
    """The shared state's table kept in this process's memory: what one worker alone could use, and
    the baseline the shared store's overhead is measured against. Never shared, so never enough."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[bytes | None, float | None]] = {}

    def _live(self, row: tuple[bytes | None, float | None] | None) -> bool:
        return row is not None and (row[1] is None or row[1] > time.time())

    async def insert(
        self, namespace: str, key: str, value: bytes | None, ttl_seconds: float | None, replace: bool
    ) -> bool:
        if not replace and self._live(self._rows.get((namespace, key))):
            return False
        self._rows[namespace, key] = (value, None if ttl_seconds is None else time.time() + ttl_seconds)
        return True

    async def select(self, namespace: str, key: str) -> bytes | None:
        row = self._rows.get((namespace, key))
        return row[0] if row is not None and self._live(row) else None

    async def pop(self, namespace: str, key: str) -> tuple[bool, bytes | None]:
        row = self._rows.pop((namespace, key), None)
        return (True, row[0]) if row is not None and self._live(row) else (False, None)

    async def delete(self, namespace: str, key: str, prefix: bool) -> int:
        doomed = [
            k for k in self._rows if k[0] == namespace and (k[1].startswith(key) if prefix else k[1] == key)
        ]
        for k in doomed:
            del self._rows[k]
        return len(doomed)

    async def purge_expired(self) -> int:
        return 0

    async def close(self) -> None:
        self._rows.clear()


def _event(number: int) -> dict[str, Any]:
    ts = f"{int(time.time())}.{number:06d}"
    event = {"type": "message", "channel_type": "im", "channel": WORKSPACE.dm_channel, "user": WORKSPACE.user}
    return event | {"text": f"hello {number}", "ts": ts, "event_ts": ts}


def _answers(fake: FakeSlack, events: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {event["ts"]: 0 for event in events}
    for call in fake.calls_to("chat.postMessage"):
        if call.params.get("thread_ts") in counts:
            counts[call.params["thread_ts"]] += 1
    return {
        "events": len(events),
        "answered_once": sum(1 for n in counts.values() if n == 1),
        "duplicate_answers": sum(n - 1 for n in counts.values() if n > 1),
        "unanswered": sum(1 for n in counts.values() if n == 0),
    }


async def _deliver(
    workers: list[SlackHarness], events: list[dict[str, Any]], *, racing: bool
) -> tuple[list[int], list[float]]:
    """Every event to every worker, in turn (as Slack retries: worker i first, then the next ones,
    with ``X-Slack-Retry-Num``) or all at once. Returns the statuses and each retry's ack time."""
    statuses: list[int] = []
    retry_acks: list[float] = []
    for index, event in enumerate(events):
        body = event_payload(WORKSPACE, event, event_id=f"Ev0W{next(_numbers):08d}")
        order = [workers[(index + shift) % len(workers)] for shift in range(len(workers))]

        async def send(worker: SlackHarness, attempt: int, body: dict[str, Any] = body) -> int:
            headers = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"}
            started = time.perf_counter()
            status, _ = await worker.post_json(body, headers=headers if attempt else None)
            if attempt and not racing:
                retry_acks.append(time.perf_counter() - started)
            return status

        if racing:
            statuses += await asyncio.gather(*(send(w, a) for a, w in enumerate(order)))
        else:
            for attempt, worker in enumerate(order):
                statuses.append(await send(worker, attempt))
    return statuses, retry_acks


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def _alternating(samples: int, calls: dict[str, Callable[[int], Awaitable[Any]]]) -> dict[str, Any]:
    """Time each call ``samples`` times, taking turns, so a busy moment of a shared CPU falls on both."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for number in range(samples):
        for name, call in calls.items():
            started = time.perf_counter()
            await call(number)
            seconds[name].append(time.perf_counter() - started)
    return {name: summary(values) for name, values in seconds.items()}


@asynccontextmanager
async def _worker_alone(
    settings: Settings, fake: FakeSlack, installation: Installation
) -> AsyncIterator[SlackHarness]:
    """A worker whose claims and installations live in its own memory (the installation copied in, so
    Bolt authorizes its requests as on the others)."""
    alone = SharedState(MemoryTable(), open_box(settings))
    await installation_store(settings, alone).async_save(installation)
    async with open_hub(settings=settings) as hub, aiohttp.ClientSession() as session:
        bot = build_bot(hub, Agent(settings), settings, shared=alone)
        runner = await start_http(bot.app, host="127.0.0.1", port=0)
        worker = SlackHarness(fake, bot, f"http://127.0.0.1:{runner.addresses[0][1]}", session)
        try:
            yield worker
        finally:
            await worker.settle()
            await runner.cleanup()


async def _claimed(worker: SlackHarness) -> dict[str, Any]:
    """An event whose first delivery ``worker`` has handled: every later delivery is a repeat."""
    body = event_payload(WORKSPACE, _event(next(_numbers)), event_id=f"Ev0A{next(_numbers):08d}")
    await worker.post_json(body)
    await worker.settle()
    return body


async def _costs(settings: Settings, fake: FakeSlack, worker: SlackHarness, samples: int) -> dict[str, Any]:
    """The shared de-duplication against the in-memory one, alternating between the two."""
    installation = await installation_store(settings, worker.bot.shared).async_find_installation(
        enterprise_id=None, team_id=WORKSPACE.team
    )
    assert installation is not None
    async with _worker_alone(settings, fake, installation) as alone:
        workers = {"shared": worker, "in_memory": alone}
        claims = {name: EventClaims(w.bot.shared) for name, w in workers.items()}
        stores = {name: installation_store(settings, w.bot.shared) for name, w in workers.items()}
        tag = f"EvC{next(_numbers)}-"

        def claim(name: str) -> Callable[[int], Awaitable[bool]]:
            return lambda number: claims[name].first_time(f"{tag}{name}-{number}")

        def lookup(name: str) -> Callable[[int], Awaitable[Any]]:
            return lambda _: stores[name].async_find_bot(enterprise_id=None, team_id=WORKSPACE.team)

        def repeat(name: str, body: dict[str, Any]) -> Callable[[int], Awaitable[Any]]:
            return lambda _: workers[name].post_json(body, headers=RETRY)

        first = await _alternating(samples, {name: claim(name) for name in workers})
        again = await _alternating(samples, {name: claim(name) for name in workers})
        lookups = await _alternating(samples, {name: lookup(name) for name in workers})
        bodies = {name: await _claimed(w) for name, w in workers.items()}
        acks = await _alternating(samples, {name: repeat(name, bodies[name]) for name in workers})
    return {
        "claim": {
            name: {"first_delivery": first[name], "repeated_delivery": again[name]} for name in workers
        },
        "installation_lookup": lookups,
        "retry_ack": acks
        | {"overhead_p50_ms": round(acks["shared"]["p50_ms"] - acks["in_memory"]["p50_ms"], 4)},
    }


async def _spread(workers: list[SlackHarness], fake: FakeSlack, events: int, racing: bool) -> dict[str, Any]:
    batch = [_event(next(_numbers)) for _ in range(events)]
    mark = len(fake.calls)
    started = time.perf_counter()
    statuses, retry_acks = await _deliver(workers, batch, racing=racing)
    await settle_all(workers)
    figures = _answers(fake, batch) | {
        "deliveries": len(statuses),
        "retries": len(statuses) - len(batch),
        "non_200": sum(1 for status in statuses if status != 200),
        "seconds": round(time.perf_counter() - started, 2),
        "answers_sent": len([c for c in fake.calls[mark:] if c.method == "chat.postMessage"]),
    }
    if retry_acks:
        figures["retry_ack"] = summary(retry_acks)
    return figures


async def measure(
    settings: Settings, *, count: int = 3, events: int = 100, samples: int = 1000
) -> dict[str, Any]:
    fake = FakeSlack()
    await fake.start()
    settings = settings.model_copy(update={"slack_api_url": fake.api_url})
    try:
        result: dict[str, Any] = {"workers": count, "backend": settings.backend}
        async with slack_workers(settings, fake, count) as workers:
            status = await install_across(workers[0], workers[0], WORKSPACE.team)
            served = 0
            for worker in workers:
                reply = await worker.command(WORKSPACE, "/recall", "")
                served += "reinstall this app" not in text_of(reply)
            result["install"] = {"through_worker": 1, "status": status, "served_by": served, "of": count}
            result["retries"] = await _spread(workers, fake, events, racing=False)
            result["racing"] = await _spread(workers, fake, events, racing=True)
            result |= await _costs(settings, fake, workers[0], samples)
        return result
    finally:
        await fake.stop()


async def _measure_on(data_dir: Path, database_url: str | None, **options: Any) -> dict[str, Any]:
    backend = {"backend": "postgres", "database_url": database_url} if database_url else {}
    settings = load_settings(
        data_dir=data_dir,
        slack_client_id="111.222",
        slack_client_secret=SecretStr("bench-client-secret"),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        **backend,
    )
    return await measure(settings, **options)


def run_workers(data_dir: Path, *, postgres: bool = False, **options: Any) -> dict[str, Any]:
    """The worker figures on a scratch data dir (and on a throwaway PostgreSQL with ``postgres``)."""
    figures = {"embedded": asyncio.run(_measure_on(data_dir / "embedded", None, **options))}
    if postgres:
        from tests.loopback.postgres_server import CannotStart, start_postgres

        try:
            server = start_postgres()
        except CannotStart as reason:
            figures["postgres"] = {"skipped": str(reason)}
        else:
            try:
                url = server.url()
                figures["postgres"] = asyncio.run(_measure_on(data_dir / "postgres", url, **options))
            finally:
                server.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="cubby-workers-"))
    try:
        figures = run_workers(
            scratch, postgres=options.postgres, events=options.events, samples=options.samples
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

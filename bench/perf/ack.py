"""Slash-command ack latency through the chat adapters, sent at a steady rate while the load runs.

An adapter is probed when it is present (``bots.slack`` / ``bots.discord`` importable, with their
platform libraries); otherwise the figure is reported as skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from bench.perf.stats import summary
from bench.perf.workload import FreshTexts
from core import Hub, Settings


class AckProbe(Protocol):
    name: str

    async def start(self, hub: Hub) -> None: ...
    async def command(self, person: int, query: str) -> float: ...
    async def stop(self) -> None: ...


def _missing(*modules: str) -> str | None:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed or not present"
        except ModuleNotFoundError:
            return f"{module} is not installed or not present"
    return None


def available_probes(settings: Settings, wanted: list[str]) -> tuple[list[AckProbe], dict[str, str]]:
    """The probes that can run here, and a reason for each wanted one that cannot."""
    probes: list[AckProbe] = []
    skipped: dict[str, str] = {}
    if "slack" in wanted:
        reason = _missing("bots.slack", "slack_bolt", "aiohttp")
        if reason:
            skipped["slack"] = reason
        else:
            from bench.perf.ack_slack import SlackAckProbe

            probes.append(SlackAckProbe(settings))
    if "discord" in wanted:
        reason = _missing("bots.discord", "discord", "aiohttp")
        if reason:
            skipped["discord"] = reason
        else:
            from bench.perf.ack_discord import DiscordAckProbe

            probes.append(DiscordAckProbe(settings))
    return probes, skipped


def platform_people(population: int, platform: str, count: int) -> list[int]:
    """Seeded people of one platform (see ``_corpus.user_key``: index % 10 < 7 is Slack)."""
    slack = platform == "slack"
    step = max(1, population // max(count, 1))
    chosen = [i for i in range(0, population, step) if (i % 10 < 7) == slack][:count]
    return chosen or [0 if slack else 7]


class AckSampler:
    """Sends one command per probe every ``interval`` seconds until the deadline; never waits for
    one ack before sending the next, so a slow ack cannot thin out the samples."""

    def __init__(self, probes: list[AckProbe], population: int, texts: FreshTexts, interval: float) -> None:
        self.probes = probes
        self.population = population
        self.texts = texts
        self.interval = interval

    async def _one_probe(self, probe: AckProbe, deadline: float) -> dict[str, Any]:
        people = platform_people(self.population, probe.name, 500)
        seconds: list[float] = []
        errors: Counter[str] = Counter()

        async def send(person: int, query: str) -> None:
            try:
                seconds.append(await probe.command(person, query))
            except Exception as error:
                errors[type(error).__name__] += 1

        sent: list[asyncio.Task[None]] = []
        while time.perf_counter() < deadline:
            person = people[len(sent) % len(people)]
            sent.append(asyncio.create_task(send(person, self.texts.query())))
            await asyncio.sleep(self.interval)
        await asyncio.gather(*sent)
        return {"ack": summary(seconds), "errors": sum(errors.values()), "error_types": dict(errors)}

    async def __call__(self, deadline: float) -> dict[str, Any]:
        results = await asyncio.gather(*(self._one_probe(p, deadline) for p in self.probes))
        return {probe.name: result for probe, result in zip(self.probes, results, strict=True)}


def after_stop(probe: AckProbe, result: dict[str, Any]) -> dict[str, Any]:
    """Figures a probe can only give once its adapter has drained: replies that followed the acks,
    and which kind of first callback a Discord interaction got (4 = the answer, 5 = deferred)."""
    replies: Callable[[], list[float]] | None = getattr(probe, "reply_seconds", None)
    if replies is not None:
        result["reply"] = summary(replies())
    kinds = getattr(probe, "callback_types", None)
    if kinds:
        result["first_callback_types"] = {str(kind): count for kind, count in sorted(kinds.items())}
    return result

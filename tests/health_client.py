"""Reading Cubby's health endpoints and metrics the way a load balancer or Prometheus would."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def get(port: int, path: str, *, wait: float = 30.0) -> tuple[int, Any]:
    """``GET http://127.0.0.1:<port><path>``, retrying while the server is still starting: (status, body)."""
    deadline = asyncio.get_running_loop().time() + wait
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.content_type == "application/json":
                        return response.status, await response.json()
                    return response.status, await response.text()
            except aiohttp.ClientConnectorError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)


async def wait_ready(port: int, path: str = "/readyz", wait: float = 30.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        status, body = await get(port, path)
        if status == 200:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"never ready: {body}"
        await asyncio.sleep(0.05)


def samples(scrape: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text scrape, keyed by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }


def value(scrape: str, name: str, **labels: str) -> float:
    return samples(scrape).get((name, frozenset(labels.items())), 0.0)

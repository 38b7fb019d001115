"""Health and metrics over HTTP for whoever runs Cubby: ``GET /healthz`` (the process is alive),
``GET /readyz`` (the memory store answers and the platform connection is up) and ``GET /metrics``
(Prometheus text format, see :mod:`core.metrics`).

This lives in ``bots/``, not ``core/``, because it serves with aiohttp, which comes with the Slack
and Discord extras (slack-bolt's HTTP server and discord.py both need it) and is not a core
dependency. In Slack's HTTP mode ``/healthz`` and ``/readyz`` are added to the server Slack posts to;
with ``CUBBY_HEALTH_PORT`` set, all three are also served on that port in any mode (Socket Mode and
Discord have no server of their own). ``/metrics`` is only on that port, which need not be public.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core import Hub, UserKey, metrics

log = logging.getLogger(__name__)

PlatformReady = Callable[[], bool | Awaitable[bool]]
STORE_PROBE_SECONDS = 3.0
# A key no person can have (cli names are a person's own choice, but nobody has any memory under
# this one unless they chose it; counting it reads nothing and changes nothing).
_PROBE_KEY = UserKey.cli("cubby-readiness-probe")


class Readiness:
    """Answers ``/readyz``: whether the store answers a query in time, and whether the platform
    connection is up."""

    def __init__(self, hub: Hub, platform_ready: PlatformReady) -> None:
        self._hub = hub
        self._platform_ready = platform_ready

    async def store_ready(self) -> bool:
        try:
            await asyncio.wait_for(self._hub.scoped(_PROBE_KEY).count(), STORE_PROBE_SECONDS)
        except Exception as error:  # the hub logs the failure's type; here it only means "not ready"
            log.warning("readiness: the memory store did not answer (%s)", type(error).__name__)
            return False
        return True

    async def platform_connected(self) -> bool:
        try:
            answer = self._platform_ready()
            return bool(await answer if inspect.isawaitable(answer) else answer)
        except Exception as error:
            log.warning("readiness: the platform check failed (%s)", type(error).__name__)
            return False

    async def report(self) -> dict[str, bool]:
        return {"store": await self.store_ready(), "platform": await self.platform_connected()}


def add_health_routes(app: web.Application, readiness: Readiness, *, with_metrics: bool) -> None:
    """Add ``/healthz``, ``/readyz`` and (``with_metrics``) ``/metrics`` to ``app``."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness.report()
        ready = all(checks.values())
        return web.json_response({"ready": ready, **checks}, status=200 if ready else 503)

    async def metrics_page(_: web.Request) -> web.Response:
        body, content_type = metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if with_metrics:
        app.router.add_get("/metrics", metrics_page)


async def start_health_server(readiness: Readiness, *, host: str, port: int) -> web.AppRunner:
    """Serve ``/healthz``, ``/readyz`` and ``/metrics`` on ``host:port``; ``cleanup()`` the result."""
    app = web.Application()
    add_health_routes(app, readiness, with_metrics=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on port %d (/healthz, /readyz, /metrics)", port)
    return runner


class HealthServer:
    """The optional health port as an async context manager: nothing happens when ``port`` is None."""

    def __init__(self, readiness: Readiness, *, host: str, port: int | None) -> None:
        self._readiness = readiness
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> HealthServer:
        if self._port is not None:
            self._runner = await start_health_server(self._readiness, host=self._host, port=self._port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

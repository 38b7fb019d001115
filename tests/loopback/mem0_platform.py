"""A fake of the mem0 platform's HTTP API on 127.0.0.1, for contract tests of the hosted backend.

It serves the endpoints mem0's ``AsyncMemoryClient`` calls (v3 add, list and search; v1 delete;
v2 entity delete; the entity listing; ping) with in-memory state, records every request, and checks
each one against Cubby's contract, recording a *violation* when a request is not confined to
exactly one person:

- a filter must be ``{"user_id": <one plain id>}``, optionally with ``memory_ids``; wildcards,
  ``AND``/``OR``/``NOT``, other entities or no user at all are violations;
- an add and a ``delete_all`` must name one plain ``user_id`` and no other entity;
- a by-id delete is only in contract if a scoped read by the memory's owner has returned that id
  before (Cubby's ownership check); by-id reads and updates are never needed, so always violations;
- the entity listing (names only) is the one project-wide request, used to erase a workspace.

"Search" scores by word overlap (cosine of word counts): enough to rank, not a model.
"""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

API_KEY = "test-api-key"
_ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")
_WORD = re.compile(r"\w+")
_BODY = web.RequestKey("body", object)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakePlatform:
    memories: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    erase_delay_seconds: float = 0.0  # the platform queues deletions; this simulates the queue
    extract_delay_seconds: float = 0.0  # ...and extractions: memories of an infer=True add land later
    entity_page_size: int = 3
    fail_next_with: int | None = None
    url: str = ""
    _proven: dict[str, str] = field(default_factory=dict)  # memory id -> the owner whose read showed it
    _runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_and_authenticate])
        app.router.add_get("/v1/ping/", self._ping)
        app.router.add_post("/v3/memories/add/", self._add)
        app.router.add_post("/v3/memories/", self._list)
        app.router.add_post("/v3/memories/search/", self._search)
        app.router.add_delete("/v1/memories/", self._delete_all)
        app.router.add_route("*", "/v1/memories/{memory_id}/", self._by_id)
        app.router.add_delete("/v2/entities/{kind}/{name}/", self._delete_entity)
        app.router.add_get("/v1/entities/", self._entities)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def owned_by(self, user: str) -> list[dict[str, Any]]:
        return [m for m in self.memories.values() if m["user_id"] == user]

    # -- contract checks -------------------------------------------------------------------------
    def _violation(self, request: web.Request, why: str) -> None:
        self.violations.append(f"{request.method} {request.path}: {why}")

    @staticmethod
    def _one_user(value: object) -> bool:
        return isinstance(value, str) and bool(value) and value != "*" and value == value.strip()

    def _scoped_filters(self, request: web.Request, filters: object) -> str | None:
        """The one user a filter names, or None after recording why it does not."""
        if not isinstance(filters, dict) or not self._one_user(filters.get("user_id")):
            self._violation(request, f"filters not scoped to one user: {filters!r}")
            return None
        if set(filters) - {"user_id", "memory_ids"}:
            self._violation(request, f"filters widen or change the scope: {sorted(filters)}")
            return None
        return filters["user_id"]

    @web.middleware
    async def _record_and_authenticate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append(Recorded(request.method, request.path, dict(request.query), body))
        request[_BODY] = body
        if request.headers.get("Authorization") != f"Token {API_KEY}":
            return web.json_response({"detail": "Invalid API key"}, status=401)
        if self.fail_next_with is not None:
            status, self.fail_next_with = self.fail_next_with, None
            return web.json_response({"detail": "simulated platform failure"}, status=status)
        return await handler(request)

    # -- endpoints -------------------------------------------------------------------------------
    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "org_id": "org-1", "project_id": "project-1"})

    async def _add(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        user = body.get("user_id")
        if not self._one_user(user) or any(body.get(f) for f in _ENTITY_FIELDS if f != "user_id"):
            self._violation(request, "an add must name exactly one user_id and no other entity")
            return web.json_response({"detail": "bad scope"}, status=400)
        if "filters" in body:
            self._violation(request, "an add carries filters")
        self.users.add(user)
        stored: list[dict[str, Any]] = []

        def land() -> None:
            now = datetime.now(UTC).isoformat()
            for message in body.get("messages") or []:
                memory_id = str(uuid.uuid4())
                self.memories[memory_id] = {
                    "id": memory_id,
                    "memory": message["content"],
                    "user_id": user,
                    "metadata": body.get("metadata"),
                    "created_at": now,
                    "updated_at": now,
                }
                stored.append({"id": memory_id, "data": {"memory": message["content"]}, "event": "ADD"})

        if body.get("infer", True):
            if self.extract_delay_seconds:
                asyncio.get_running_loop().call_later(self.extract_delay_seconds, land)
            else:
                land()
            return web.json_response({"event_id": str(uuid.uuid4()), "status": "PENDING"})
        land()
        return web.json_response({"results": stored, "message": "ok"})

    async def _list(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        user = self._scoped_filters(request, body.get("filters"))
        if user is None:
            return web.json_response({"detail": "bad filters"}, status=400)
        wanted = body["filters"].get("memory_ids")
        rows = [m for m in self.owned_by(user) if wanted is None or m["id"] in wanted]
        page = int(request.query.get("page", 1))
        size = int(request.query.get("page_size", 100))
        chunk = rows[(page - 1) * size : page * size]
        for row in chunk:
            self._proven[row["id"]] = user
        more = page * size < len(rows)
        return web.json_response(
            {
                "count": len(rows),
                "next": f"{self.url}/v3/memories/?page={page + 1}&page_size={size}" if more else None,
                "previous": None,
                "results": chunk,
            }
        )

    async def _search(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        user = self._scoped_filters(request, body.get("filters"))
        if user is None or "user_id" in body:
            return web.json_response({"detail": "bad filters"}, status=400)
        query = Counter(_WORD.findall(str(body.get("query", "")).lower()))
        threshold = float(body.get("threshold", 0.1))
        scored = []
        for row in self.owned_by(user):
            words = Counter(_WORD.findall(row["memory"].lower()))
            overlap = sum(query[w] * words[w] for w in query)
            norm = math.sqrt(sum(v * v for v in query.values()) * sum(v * v for v in words.values())) or 1.0
            if overlap / norm >= threshold:
                scored.append({**row, "score": overlap / norm})
                self._proven[row["id"]] = user
        scored.sort(key=lambda row: row["score"], reverse=True)
        return web.json_response({"results": scored[: int(body.get("top_k", 10))]})

    async def _delete_all(self, request: web.Request) -> web.Response:
        user = request.query.get("user_id")
        if not self._one_user(user) or any(f in request.query for f in _ENTITY_FIELDS if f != "user_id"):
            self._violation(request, f"delete_all not scoped to one user: {dict(request.query)}")
            return web.json_response({"detail": "bad scope"}, status=400)

        def erase() -> None:
            for memory in self.owned_by(user):
                del self.memories[memory["id"]]

        if self.erase_delay_seconds:
            asyncio.get_running_loop().call_later(self.erase_delay_seconds, erase)
        else:
            erase()
        return web.json_response({"message": "Delete in progress.", "event_id": str(uuid.uuid4())})

    async def _by_id(self, request: web.Request) -> web.Response:
        memory_id = request.match_info["memory_id"]
        if request.method != "DELETE":
            self._violation(request, "a by-id read or update carries no user scope")
            return web.json_response({"detail": "not in the contract"}, status=405)
        memory = self.memories.get(memory_id)
        if memory is None:
            return web.json_response({"error": "Memory not found!"}, status=404)
        if self._proven.get(memory_id) != memory["user_id"]:
            self._violation(request, "a by-id delete without a scoped read by the owner first")
        del self.memories[memory_id]
        return web.json_response({"message": "Memory deleted successfully!"})

    async def _delete_entity(self, request: web.Request) -> web.Response:
        kind, name = request.match_info["kind"], request.match_info["name"]
        if kind != "user" or not self._one_user(name):
            self._violation(request, "an entity delete must name one user")
            return web.json_response({"message": "Invalid entity type"}, status=400)
        if name not in self.users:
            return web.json_response({"error": "Entity not found"}, status=404)
        self.users.discard(name)
        return web.json_response({"message": "Delete in progress.", "event_id": str(uuid.uuid4())})

    async def _entities(self, request: web.Request) -> web.Response:
        names = sorted(self.users)
        page = int(request.query.get("page", 1))
        size = self.entity_page_size
        chunk = names[(page - 1) * size : page * size]
        now = datetime.now(UTC).isoformat()
        results = [
            {"id": name, "name": name, "type": "user", "owner": "o", "created_at": now, "updated_at": now}
            for name in chunk
        ]
        more = page * size < len(names)
        return web.json_response(
            {
                "count": len(names),
                "next": f"{self.url}/v1/entities/?page={page + 1}" if more else None,
                "previous": None,
                "results": results,
            }
        )

    async def _unknown(self, request: web.Request) -> web.Response:
        self._violation(request, "not an endpoint Cubby uses")
        return web.json_response({"detail": "Not found"}, status=404)

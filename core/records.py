"""The values the core hands out: memories and where they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_MEMORY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_memory_id(value: object) -> bool:
    """True for text shaped like a memory id (a lowercase UUID), whoever's memory it may be."""
    return isinstance(value, str) and _MEMORY_ID.fullmatch(value) is not None


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a memory was said: the platform, the channel (or "dm"), and when.

    A memory saved from a message someone pointed at ("Remember this") also says so: ``kind`` is
    ``"message"``, ``permalink`` links to the message where the platform has links, and ``author`` is
    the platform's id of whoever wrote it, when that is not the person who saved it."""

    platform: str
    channel: str | None = None
    at: datetime | None = None
    kind: str | None = None
    permalink: str | None = None
    author: str | None = None

    def to_dict(self) -> dict[str, str]:
        doc = {"platform": self.platform}
        if self.channel:
            doc["channel"] = self.channel
        if self.at:
            doc["at"] = self.at.isoformat()
        for name in _PROVENANCE:
            value = getattr(self, name)
            if value:
                doc[name] = value
        return doc

    @classmethod
    def from_dict(cls, doc: object) -> Source | None:
        if not isinstance(doc, dict) or not isinstance(doc.get("platform"), str):
            return None
        channel = doc.get("channel")
        provenance = {name: doc[name] for name in _PROVENANCE if isinstance(doc.get(name), str)}
        return cls(
            doc["platform"],
            channel if isinstance(channel, str) else None,
            parse_time(doc.get("at")),
            **provenance,
        )


_PROVENANCE = ("kind", "permalink", "author")


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """One memory of one person. ``score`` is set on search results only (higher is closer)."""

    id: str
    text: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    score: float | None = None
    source: Source | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "text": self.text}
        if self.created_at:
            doc["created_at"] = self.created_at.isoformat()
        if self.updated_at:
            doc["updated_at"] = self.updated_at.isoformat()
        if self.score is not None:
            doc["score"] = round(self.score, 4)
        if self.source:
            doc["source"] = self.source.to_dict()
        return doc

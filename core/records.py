"""The values the core hands out: memories and where they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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


def expiry_text(when: datetime) -> str:
    """The one form an expiry is stored in: UTC to the second, so stored expiries sort as text and
    a sweep can compare them in an index."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


#: How a memory arrived: typed with /remember, extracted from a conversation by the LLM, imported
#: from an export, or saved from a message (a shortcut or context menu).
HOW = ("typed", "extracted", "imported", "saved")


def text_or_none(value: object, limit: int = 500) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def https_or_none(link: str | None) -> str | None:
    """A link Cubby shows: only ``https://`` ones."""
    return link if link and link.startswith("https://") else None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a memory came from: the platform, the channel (or "dm"), when, how it arrived (one
    of :data:`HOW`, or None when not recorded) and a permalink to the message when there is one.
    A memory saved from someone else's message ("Remember this") names its ``author`` (the
    platform's id of whoever wrote it)."""

    platform: str
    channel: str | None = None
    at: datetime | None = None
    how: str | None = None
    permalink: str | None = None
    #: The Discord server a memory was made in (Slack's workspace is already part of the user key),
    #: so a server's retention rule can find it.
    workspace: str | None = None
    author: str | None = None

    def to_dict(self, known: tuple[datetime, str] | None = None) -> dict[str, str]:
        """``known``: a time and its text, already formatted by the caller (a record's creation),
        reused when ``at`` is that very object."""
        doc = {"platform": self.platform}
        if self.channel:
            doc["channel"] = self.channel
        if self.at:
            doc["at"] = known[1] if known is not None and self.at is known[0] else self.at.isoformat()
        if self.how:
            doc["how"] = self.how
        if self.permalink:
            doc["permalink"] = self.permalink
        if self.workspace:
            doc["workspace"] = self.workspace
        if self.author:
            doc["author"] = self.author
        return doc

    def arrived(self, how: str) -> Source:
        """This source, saying how the memory arrived (unless that is already recorded)."""
        if self.how:
            return self
        return replace(self, how=how)

    @classmethod
    def from_dict(cls, doc: object, known: tuple[object, datetime | None] | None = None) -> Source | None:
        """``known``: a text and its time, already read by the caller (a record's creation), reused
        when ``at`` is that same text."""
        if not isinstance(doc, dict) or not isinstance(doc.get("platform"), str) or not doc["platform"]:
            return None
        how, at = doc.get("how"), doc.get("at")
        return cls(
            doc["platform"][:40],
            text_or_none(doc.get("channel"), 200),
            known[1] if known is not None and at == known[0] else parse_time(at),
            how if how in HOW else None,
            https_or_none(text_or_none(doc.get("permalink"))),
            text_or_none(doc.get("workspace"), 40),
            text_or_none(doc.get("author"), 40),
        )


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """One memory of one person. ``score`` is set on search results only (higher is closer)."""

    id: str
    text: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    score: float | None = None
    source: Source | None = None
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utc_now())

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "text": self.text}
        created = self.created_at
        known = None if created is None else (created, created.isoformat())
        # A record read from a store shares one object among its times that were the same text
        # (see core.memory.backends.payloads.record_from_payload): formatted once. Equal times are not
        # enough, as 12:00+00:00 and 04:00-08:00 are equal but read differently.
        if known is not None:
            doc["created_at"] = known[1]
        if self.updated_at:
            doc["updated_at"] = (
                known[1] if known and self.updated_at is created else self.updated_at.isoformat()
            )
        if self.score is not None:
            doc["score"] = round(self.score, 4)
        if self.source:
            doc["source"] = self.source.to_dict(known)
        if self.expires_at:
            doc["expires_at"] = expiry_text(self.expires_at)
        return doc

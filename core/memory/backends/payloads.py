"""Cubby's values made from what mem0 hands back: the items of its API, and the payloads of stored
rows, as :class:`MemoryRecord` or straight as the entries of an export."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.records import HOW, MemoryRecord, Source, expiry_text, https_or_none, parse_time, text_or_none

log = logging.getLogger(__name__)


def record_from_mem0(item: Mapping[str, Any]) -> MemoryRecord:
    metadata = item.get("metadata") or {}
    score = item.get("score")
    return MemoryRecord(
        id=str(item["id"]),
        text=str(item.get("memory", "")),
        created_at=parse_time(item.get("created_at")),
        updated_at=parse_time(item.get("updated_at")),
        score=float(score) if isinstance(score, int | float) else None,
        source=Source.from_dict(metadata.get("source")),
        expires_at=parse_time(metadata.get("expires_at")),
    )


def owned_records(user: str, items: list[Mapping[str, Any]]) -> list[MemoryRecord]:
    """The records among mem0's ``items`` that belong to ``user``. Defence in depth: every read is
    already confined to that one user, so a dropped item means a bug, and is logged as one."""
    records = []
    for item in items:
        if item.get("user_id") == user:
            records.append(record_from_mem0(item))
        else:
            log.error("dropped a result that did not belong to the requesting user")
    return records


def record_from_payload(memory_id: str, payload: Mapping[str, Any]) -> MemoryRecord:
    """The record of a stored row. Its update and its source's time are most often the very text of
    its creation: read once, and the record holds one object for them (which its export then
    formats once)."""
    created_text, updated_text = payload.get("created_at"), payload.get("updated_at")
    created = parse_time(created_text)
    return MemoryRecord(
        id=memory_id,
        text=str(payload.get("data", "")),
        created_at=created,
        updated_at=created if updated_text == created_text else parse_time(updated_text),
        source=Source.from_dict(payload.get("source"), (created_text, created)),
        expires_at=parse_time(payload.get("expires_at")),
    )


def export_entry(memory_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``record_from_payload(memory_id, payload).to_dict()``, made without the record between: an
    export makes one per row, and building the record and then reading it back was half of a heavy
    person's export. The same rules, field by field; a test holds the two equal on every shape of
    payload a row can have."""
    created_text, updated_text = payload.get("created_at"), payload.get("updated_at")
    created = _shown(parse_time(created_text))
    entry: dict[str, Any] = {"id": memory_id, "text": str(payload.get("data", ""))}
    if created:
        entry["created_at"] = created
    updated = created if updated_text == created_text else _shown(parse_time(updated_text))
    if updated:
        entry["updated_at"] = updated
    source = _source_entry(payload.get("source"), created_text, created)
    if source:
        entry["source"] = source
    expires = parse_time(payload.get("expires_at"))
    if expires:
        entry["expires_at"] = expiry_text(expires)
    return entry


def _shown(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _source_entry(doc: object, created_text: object, created: str | None) -> dict[str, str] | None:
    """``Source.from_dict(doc, ...).to_dict(...)`` for :func:`export_entry`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("platform"), str) or not doc["platform"]:
        return None
    entry = {"platform": doc["platform"][:40]}
    at, how = doc.get("at"), doc.get("how")
    fields = (
        ("channel", text_or_none(doc.get("channel"), 200)),
        ("at", created if at == created_text else _shown(parse_time(at))),
        ("how", how if how in HOW else None),
        ("permalink", https_or_none(text_or_none(doc.get("permalink")))),
        ("workspace", text_or_none(doc.get("workspace"), 40)),
        ("author", text_or_none(doc.get("author"), 40)),
    )
    entry.update((name, value) for name, value in fields if value)
    return entry

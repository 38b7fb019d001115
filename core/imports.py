"""Reading a Cubby export back in: the checks a file must pass before anything of it is stored.

A file is refused whole - with a message saying why, and nothing stored - when it is too big, is
not JSON, is not a Cubby export (``format`` is not :data:`EXPORT_FORMAT`), holds more memories than
a person may keep, or has a memory that is not well formed. What lands is only text, source and
expiry (and the original id and timestamps where the store can keep them), always under the
importing person's key: the file's ``user`` is checked for a person's own import, and ignored
otherwise; nothing else in it is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.keys import UserKey
from core.memory import EXPORT_FORMAT
from core.records import MemoryRecord, Source, is_memory_id, parse_time

MAX_IMPORT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExportDocument:
    user: str
    records: list[MemoryRecord]


def _record(item: object, position: int, max_chars: int) -> MemoryRecord:
    where = f"memory {position} of the file"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} is not an object")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where} has no text")
    if len(text) > max_chars:
        raise InvalidInput(f"{where} is longer than {max_chars:,} characters")
    memory_id = item.get("id")
    expires_raw = item.get("expires_at")
    expires_at = parse_time(expires_raw)
    if expires_raw is not None and expires_at is None:
        raise InvalidInput(f"{where} has an expiry that is not a date")
    if "source" in item and Source.from_dict(item["source"]) is None:
        raise InvalidInput(f"{where} has a source that is not a Cubby source")
    return MemoryRecord(
        id=memory_id if isinstance(memory_id, str) and is_memory_id(memory_id) else "",
        text=text.strip(),
        created_at=parse_time(item.get("created_at")),
        updated_at=parse_time(item.get("updated_at")),
        source=Source.from_dict(item.get("source")),
        expires_at=expires_at,
    )


def read_export(content: bytes, *, max_memories: int, max_chars: int) -> ExportDocument:
    """The memories of a Cubby export file, or :class:`InvalidInput` saying why it is refused."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        document: Any = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidInput("the file is not a Cubby export (it is not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"the file is not a Cubby export (its format is not {EXPORT_FORMAT})")
    memories, user = document.get("memories"), document.get("user")
    if not isinstance(memories, list) or not isinstance(user, str):
        raise InvalidInput("the file is not a Cubby export (no user or memories)")
    if len(memories) > max_memories:
        raise InvalidInput(f"the file holds {len(memories):,} memories; at most {max_memories:,} can be kept")
    records = [_record(item, position, max_chars) for position, item in enumerate(memories, 1)]
    return ExportDocument(user, records)


def require_own(document: ExportDocument, key: UserKey) -> None:
    """A person imports their own export only; an export of someone else is refused."""
    try:
        owner = UserKey.parse(document.user)
    except Exception:
        raise InvalidInput("the file is not a Cubby export (its user is not a Cubby user key)") from None
    if owner != key:
        raise InvalidInput("that export belongs to someone else; you can only import your own")

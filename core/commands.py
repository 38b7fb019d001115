"""The platform-neutral logic of Cubby's commands: /remember, /recall, /forget, export, and the
commands that put a person's memory in their hands: edit, expiry, pause and import.

Adapters parse their platform's payload, call these with the person's :class:`ScopedMemory`, and render
the result their own way. Confirmation of a forget is the adapter's job (buttons, a prompt); this
module only works out what a forget would remove and then removes it.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from core import metrics
from core.durations import parse_span, split_expiry
from core.errors import InvalidInput
from core.imports import read_export, require_own
from core.memory import Erased, ScopedMemory
from core.memory.hub import Edited, Restored
from core.memory.prefs import PersonSettings
from core.records import MemoryRecord, Source, is_memory_id, utc_now

PAGE_SIZE = 10
RECALL_LIMIT = 5
FORGET_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Recalled:
    """Search results for a query, or one page of everything when there is no query."""

    query: str | None
    records: list[MemoryRecord]
    total: int
    page: int = 1
    pages: int = 1


@dataclass(frozen=True, slots=True)
class ForgetPlan:
    """What a forget would remove, for the person to confirm.

    ``everything``: all ``count`` memories. ``one``: ``records[0]``. ``choose``: several memories
    matched the search text, the person picks one. ``nothing``: no memory matched (or none exist)."""

    kind: Literal["everything", "one", "choose", "nothing"]
    count: int = 0
    records: list[MemoryRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    content: bytes
    count: int
    memory_ids: tuple[str, ...] = ()  # what the file quotes, to delete it when one is forgotten


@metrics.measured("remember")
async def remember(memory: ScopedMemory, text: str, source: Source | None = None) -> list[MemoryRecord]:
    """Store ``text`` as given; a trailing "for 30 days" or "until 2027-01-31" sets its expiry.
    Raises :class:`InvalidInput` (with a message for the person) on bad text or a past expiry."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("there is nothing to remember - add the text after the command")
    text, expires_at = split_expiry(text)
    if not text.strip():
        raise InvalidInput("there is nothing to remember before the duration")
    return await memory.add(text, source=source, expires_at=expires_at)


@metrics.measured("edit")
async def edit(memory: ScopedMemory, memory_id: str, text: str) -> Edited:
    """Give one memory a new text (``/edit <id> <text>``). An id that is not one of this person's
    memories is refused with a message, and nothing changes."""
    if not is_memory_id((memory_id or "").strip()):
        raise InvalidInput("give the id of the memory to edit (shown by /recall), then the new text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("give the new text after the memory id")
    edited = await memory.update(memory_id.strip(), text)
    if edited.record is None:
        raise InvalidInput("you have no memory with that id")
    return edited


async def set_paused(memory: ScopedMemory, paused: bool) -> PersonSettings:
    return await (memory.pause() if paused else memory.resume())


async def set_default_expiry(memory: ScopedMemory, argument: str) -> PersonSettings:
    """``/expiry 90 days`` makes new memories expire after that long; ``/expiry off`` keeps them."""
    argument = (argument or "").strip().lower()
    if argument in ("off", "never", "none"):
        return await memory.set_default_expiry(None)
    span = parse_span(argument)
    return await memory.set_default_expiry(max(1, round(span.total_seconds() / 86400)))


@metrics.measured("import")
async def import_export(memory: ScopedMemory, content: bytes, *, own_only: bool = True) -> Restored:
    """Import a Cubby export file into this person's memory. ``own_only`` (a person's own import)
    refuses someone else's export; an operator's import takes any export for the key it names."""
    max_memories, max_chars = memory.limits
    document = read_export(content, max_memories=max_memories, max_chars=max_chars)
    if own_only:
        require_own(document, memory.key)
    return await memory.restore(document.records)


@metrics.measured("recall")
async def recall(
    memory: ScopedMemory, query: str | None = None, *, page: int = 1, page_size: int = PAGE_SIZE
) -> Recalled:
    """The best matches for ``query``, or page ``page`` of everything (oldest first) without one."""
    if query is not None and query.strip():
        records = await memory.search(query, limit=RECALL_LIMIT)
        return Recalled(query.strip(), records, total=len(records))
    records, total, page = await memory.page(page, page_size)
    return Recalled(None, records, total, page, max(1, math.ceil(total / page_size)))


@metrics.measured("plan_forget")
async def plan_forget(memory: ScopedMemory, argument: str | None = None) -> ForgetPlan:
    """What ``/forget [argument]`` would remove: everything, one memory by id, or by search text."""
    argument = (argument or "").strip()
    if not argument:
        count = await memory.count()
        return ForgetPlan("everything", count) if count else ForgetPlan("nothing")
    if is_memory_id(argument):
        # An id that is not this person's is unknown; never fall back to a search that could offer
        # some unrelated memory of theirs instead.
        by_id = await memory.get(argument)
        return ForgetPlan("one", 1, [by_id]) if by_id else ForgetPlan("nothing")
    matches = await memory.search(argument, limit=FORGET_CANDIDATES)
    if not matches:
        return ForgetPlan("nothing")
    if len(matches) == 1:
        return ForgetPlan("one", 1, matches)
    return ForgetPlan("choose", len(matches), matches)


@metrics.measured("forget_one")
async def forget_one(memory: ScopedMemory, memory_id: str) -> bool:
    deleted = await memory.delete(memory_id)
    metrics.erased(memory, "one", int(deleted))
    return deleted


@metrics.measured("forget_everything")
async def forget_everything(memory: ScopedMemory) -> int:
    erased = await memory.delete_all()
    metrics.erased(memory, "everything", erased)
    return erased


@metrics.measured("forget_one")
async def erase_one(memory: ScopedMemory, memory_id: str) -> Erased:
    """Forget one memory; the result names the posts that quoted it, for the adapter to delete."""
    erased = await memory.erase_one(memory_id)
    metrics.erased(memory, "one", erased.count)
    return erased


@metrics.measured("forget_everything")
async def erase_everything(memory: ScopedMemory) -> Erased:
    """Forget everything; the result names every post that quoted a memory, for the adapter to delete."""
    erased = await memory.erase_everything()
    metrics.erased(memory, "everything", erased.count)
    return erased


# Made once (json.dumps makes one a call); the entries are trees made here: no cycle to look for.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


#: The export's lists that can be long (a heavy person's memories, the posts of a chatty one): one
#: item per line, after the rest.
_ONE_PER_LINE = ("memories", "posts")


def _export_bytes(document: dict[str, Any]) -> bytes:
    """``document`` as indented JSON with one memory (and one post) per line. ``json.dumps(indent=...)``
    falls back to the pure-Python encoder: 180 ms for 5,000 memories against a few with this layout."""
    rest = {k: v for k, v in document.items() if k not in _ONE_PER_LINE}
    head = json.dumps(rest, ensure_ascii=False, indent=2)
    lists = "".join(
        f',\n  "{name}": {_one_per_line(document[name])}' for name in _ONE_PER_LINE if name in document
    )
    return (head[: -len("\n}")] + lists + "\n}\n").encode("utf-8")


def _one_per_line(items: list[Any]) -> str:
    if not items:
        return "[]"
    rows = ",\n    ".join(map(_ONE_LINE, items))
    return f"[\n    {rows}\n  ]"


@metrics.measured("export")
async def export(memory: ScopedMemory) -> ExportFile:
    document = await memory.export()
    stamp = utc_now().strftime("%Y%m%d-%H%M%S")
    # A heavy person's file takes tens of milliseconds to write out: not on the loop, where everyone
    # else's commands are waiting.
    content = await asyncio.to_thread(_export_bytes, document)
    ids = tuple(memory["id"] for memory in document["memories"])
    return ExportFile(f"cubby-memories-{stamp}.json", content, document["count"], ids)

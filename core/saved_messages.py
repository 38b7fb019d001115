""" "Remember this" on a message: the platform-neutral rules for saving a message someone points at.

The message is saved under the key of the person who invoked the action - never its author's - with
where it came from (:class:`core.records.Source` with ``how="saved"``). A message Cubby cannot
keep (no text, only files or attachments, longer than the memory limit) is refused with a message
that says which, and nothing is stored. The adapter shows the confirmation and an Undo button whose
value is the new memory's id; Undo erases it from the clicker's own memory only.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import metrics
from core.errors import InvalidInput
from core.memory import ScopedMemory
from core.records import MemoryRecord, Source

UNDO_LABEL = "Undo"


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """A message as the platform showed it: its text, whether it carries files, attachments or embeds
    besides, and the platform id of its author (``None`` when the platform names none)."""

    text: str
    has_attachments: bool = False
    author: str | None = None


def check(message: SeenMessage, max_chars: int) -> None:
    """Raise :class:`InvalidInput`, saying why, if ``message`` cannot be kept as a memory."""
    text = message.text.strip()
    if not text and message.has_attachments:
        raise InvalidInput("that message has only files or attachments, and I can only remember text")
    if not text:
        raise InvalidInput("that message has no text I could remember")
    if len(text) > max_chars:
        raise InvalidInput(
            f"that message is too long to remember ({len(text):,} characters; the limit is {max_chars:,})"
        )


@metrics.measured("remember")
async def remember_message(
    memory: ScopedMemory, message: SeenMessage, source: Source, *, max_chars: int
) -> MemoryRecord:
    """Save ``message`` as one memory of ``memory``'s person. Raises :class:`InvalidInput` (with a
    message for the person) for a message that cannot be kept; nothing is stored then."""
    check(message, max_chars)
    [record] = await memory.add(message.text, source=source)  # stored as given: exactly one memory
    return record


def provenance(platform: str, message: SeenMessage, invoker: str, **where: str | None) -> Source:
    """The source of a saved message; the author is named only when it is someone else."""
    author = message.author if message.author and message.author != invoker else None
    channel, permalink = where.get("channel"), where.get("permalink")
    return Source(platform, channel, how="saved", permalink=permalink, author=author)


def saved(escaped_text: str) -> str:
    """The confirmation, given the saved text already escaped (and shortened) for the platform."""
    return f"Got it - I'll remember this message: {escaped_text}\nChanged your mind? Press {UNDO_LABEL}."

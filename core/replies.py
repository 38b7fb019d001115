"""Cubby's wording, in plain text, shared by every adapter. Adapters escape memory text for their
platform's markup before they show it; these functions never do."""

from __future__ import annotations

from collections.abc import Callable

from core.commands import ForgetPlan, Recalled
from core.config import ConfigError
from core.errors import BackendUnavailable, InvalidInput, InvalidUserKey, MemoryFull
from core.memory.hub import Restored
from core.memory.prefs import PersonSettings
from core.records import MemoryRecord

Escape = Callable[[str], str]

USAGE = {
    "remember": "/remember <text> [for 30 days] - keep something for later, e.g. /remember I'm vegetarian",
    "recall": "/recall [what] - find what you told me; without words, list everything",
    "edit": "/edit <memory id> <new text> - correct a memory (the old text is erased)",
    "forget": "/forget [memory id or words] - erase one memory, or everything (asks first)",
    "expiry": "/expiry <30 days | off> - make new memories expire after a while, or keep them",
    "pause": "/pause, /resume - stop or restart learning from our conversations",
    "export": "/export - all your memories as a JSON file",
    "import": "/import - bring back memories from one of your Cubby exports",
}

PRIVACY_NOTE = "Only you can see your memories. Nobody else - not other members, not admins - can read them."


def _plain(text: str) -> str:
    return text


def help_text() -> str:
    lines = ["I keep a private memory for you. Commands:", *(f"  {usage}" for usage in USAGE.values())]
    return "\n".join([*lines, PRIVACY_NOTE])


HOW_SAID = {
    "typed": "you told me",
    "extracted": "I picked it up from our conversation",
    "imported": "imported",
    "saved": "saved from a message",
}


def provenance(record: MemoryRecord, escape: Escape = _plain) -> str:
    """How and where a memory arrived, e.g. "you told me, slack #C123, 2026-12-01"."""
    source = record.source
    parts = []
    if source and source.how:
        parts.append(HOW_SAID.get(source.how, source.how))
    if source and source.platform not in ("unknown", ""):
        place = source.platform + (f" {escape(source.channel)}" if source.channel else "")
        parts.append(place)
    if record.created_at:
        parts.append(f"{record.created_at:%Y-%m-%d}")
    if source and source.permalink:
        parts.append(escape(source.permalink))
    if record.expires_at:
        parts.append(f"expires {record.expires_at:%Y-%m-%d}")
    return ", ".join(parts)


def record_line(record: MemoryRecord, escape: Escape = _plain, *, with_id: bool = True) -> str:
    text = escape(record.text.replace("\n", " "))
    about = provenance(record, escape)
    return f"{text}" + (f" ({about})" if about else "") + (f"  [id {record.id}]" if with_id else "")


def expiry_note(records: list[MemoryRecord]) -> str:
    ends = sorted({f"{r.expires_at:%Y-%m-%d}" for r in records if r.expires_at})
    return f" I'll erase it on {ends[0]}." if len(ends) == 1 else ""


def edited(record: MemoryRecord | None, escape: Escape = _plain) -> str:
    if record is None:
        return "I found no memory of yours with that id; nothing was changed."
    return f"Updated - I now remember: {escape(record.text)}. The old text is erased."


def paused_status(settings: PersonSettings) -> str:
    if settings.paused:
        return (
            "I'm paused: I don't learn anything from our conversations until you /resume. "
            "/remember still works."
        )
    return "I'm learning from our conversations (say /pause to stop). /remember always works."


def default_expiry(settings: PersonSettings) -> str:
    if settings.expiry_days is None:
        return "New memories are kept until you forget them."
    return (
        f"New memories expire {settings.expiry_days} days after you make them (say /expiry off to keep them)."
    )


def imported(result: Restored) -> str:
    noun = "memory" if result.added == 1 else "memories"
    text = f"Imported {result.added} {noun}."
    if result.already_held:
        text += f" {result.already_held} I already had were skipped."
    if result.expired:
        text += f" {result.expired} had expired and were left out."
    return text


def retention_set(days: int | None, erased: int) -> str:
    if days is None:
        return "Retention is off: memories made here are kept until their owners forget them."
    return (
        f"Retention is {days} days: memories made here that are older are erased. I erased {erased} just now."
    )


def retention_status(days: int | None, older: int) -> str:
    if days is None:
        return "No retention is set here: memories are kept until their owners forget them."
    return f"Retention is {days} days; {older} memories made here are older and will be erased."


def remembered(records: list[MemoryRecord], escape: Escape = _plain) -> str:
    if not records:
        return "Nothing new to remember there."
    if len(records) == 1:
        return f"Got it - I'll remember: {escape(records[0].text)}" + expiry_note(records)
    return "Got it - I'll remember:\n" + "\n".join(f"- {escape(r.text)}" for r in records)


def recalled(result: Recalled, escape: Escape = _plain) -> str:
    if result.query is not None:
        if not result.records:
            return f'I don\'t remember anything about "{escape(result.query)}".'
        lines = [f"- {record_line(r, escape)}" for r in result.records]
        return f'What I remember about "{escape(result.query)}":\n' + "\n".join(lines)
    if not result.total:
        return "I don't remember anything about you yet. Try /remember."
    lines = [f"- {record_line(r, escape)}" for r in result.records]
    header = f"Everything I remember about you ({result.total}"
    header += f", page {result.page} of {result.pages})" if result.pages > 1 else ")"
    return header + ":\n" + "\n".join(lines)


def forget_question(plan: ForgetPlan, escape: Escape = _plain) -> str:
    if plan.kind == "everything":
        noun = "memory" if plan.count == 1 else "memories"
        return f"Forget everything? This erases all {plan.count} {noun} I keep for you, for good."
    if plan.kind == "one":
        return f"Forget this memory for good?\n- {record_line(plan.records[0], escape, with_id=False)}"
    if plan.kind == "choose":
        lines = [f"{i}. {record_line(r, escape, with_id=False)}" for i, r in enumerate(plan.records, 1)]
        return "Which one should I forget?\n" + "\n".join(lines)
    return "I found nothing to forget."


def forgotten(count: int) -> str:
    if count == 0:
        return "There was nothing to forget (it may already be gone)."
    noun = "memory" if count == 1 else "memories"
    return f"Done - I erased {count} {noun}. Nothing of {'it' if count == 1 else 'them'} is kept."


def posts_removed(removed: int, not_removed: list[str]) -> str:
    """What became of the messages and files Cubby had sent that quoted the forgotten memories.
    ``not_removed`` describes each one that could not be deleted, and why (never its text)."""
    if not removed and not not_removed:
        return ""
    parts = []
    if removed:
        noun = "message or file" if removed == 1 else "messages and files"
        parts.append(f"I also deleted the {removed} {noun} I had sent you that quoted them.")
    if not_removed:
        noun = "this one" if len(not_removed) == 1 else f"these {len(not_removed)}"
        parts.append(f"I could not delete {noun}: " + "; ".join(not_removed) + ".")
    return " ".join(parts)


FORGET_CANCELLED = "Okay, I kept everything."


def describe_error(error: Exception) -> str:
    """A short message for the person; never includes memory text or internals."""
    if isinstance(error, InvalidInput | InvalidUserKey):
        return f"Sorry, I can't do that: {error}."
    if isinstance(error, MemoryFull):
        return f"Sorry, {error}."
    if isinstance(error, ConfigError):
        return "Sorry, that isn't set up on this Cubby."
    if isinstance(error, BackendUnavailable):
        return "Sorry, something went wrong on my side and nothing was changed. Please try again."
    return "Sorry, something went wrong. Please try again."

"""Cubby's wording, in plain text, shared by every adapter. Adapters escape memory text for their
platform's markup before they show it; these functions never do."""

from __future__ import annotations

from collections.abc import Callable

from core.commands import ForgetPlan, Recalled
from core.config import ConfigError
from core.errors import BackendUnavailable, InvalidInput, InvalidUserKey, MemoryFull
from core.records import MemoryRecord

Escape = Callable[[str], str]

USAGE = {
    "remember": "/remember <text> - keep something for later, e.g. /remember I'm vegetarian",
    "recall": "/recall [what] - find what you told me; without words, list everything",
    "forget": "/forget [memory id or words] - erase one memory, or everything (asks first)",
    "export": "/export - all your memories as a JSON file",
}

PRIVACY_NOTE = "Only you can see your memories. Nobody else - not other members, not admins - can read them."


def _plain(text: str) -> str:
    return text


def help_text() -> str:
    lines = ["I keep a private memory for you. Commands:", *(f"  {usage}" for usage in USAGE.values())]
    return "\n".join([*lines, PRIVACY_NOTE])


def record_line(record: MemoryRecord, escape: Escape = _plain, *, with_id: bool = True) -> str:
    text = escape(record.text.replace("\n", " "))
    when = f" ({record.created_at:%Y-%m-%d})" if record.created_at else ""
    return f"{text}{when}" + (f"  [id {record.id}]" if with_id else "")


def remembered(records: list[MemoryRecord], escape: Escape = _plain) -> str:
    if not records:
        return "Nothing new to remember there."
    if len(records) == 1:
        return f"Got it - I'll remember: {escape(records[0].text)}"
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

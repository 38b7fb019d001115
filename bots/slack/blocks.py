"""Block Kit for Cubby's Slack messages and Home tab. Builders only: no I/O, no decisions.

Wording comes from ``core.replies`` as plain text; everything shown goes through :func:`escape` so a
memory can never turn into a mention, a link or broken markup. Slack caps a section's text at 3,000
characters and a button's value at 2,000, so long memories are shortened for display only.
"""

from __future__ import annotations

import json
from typing import Any

from core import ForgetPlan, MemoryRecord, Recalled, replies, saved_messages

Block = dict[str, Any]
Message = dict[str, Any]

# action_ids; every handler re-derives whose memories to touch from the clicking user, never from these.
FORGET = "cubby_forget"
FORGET_CANCEL = "cubby_forget_cancel"
RECALL_PAGE = "cubby_recall_page"
HOME_DELETE = "cubby_home_delete"
HOME_FORGET_ALL = "cubby_home_forget_all"
HOME_EXPORT = "cubby_home_export"
HOME_PAGE = "cubby_home_page"
UNDO_REMEMBER = "cubby_undo_remember"
EDIT = "cubby_edit"
EDIT_MODAL = "cubby_edit_modal"  # the modal's callback_id
EDIT_INPUT = "cubby_edit_text"
EVERYTHING = "everything"

SECTION_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 3900
HOME_TITLE = "What Cubby remembers about you"


def escape(text: str) -> str:
    """``text`` made safe for Slack mrkdwn: only &, < and > are special (Slack's own rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int = SECTION_LIMIT) -> str:
    """Escaped ``text``, shortened with an ellipsis so the escaped form is at most ``limit`` long."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept, size = [], 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "…"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(plain_text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(plain_text)}}


def _confirm(title: str, text: str, confirm: str) -> dict[str, Any]:
    return {
        "title": _plain(title),
        "text": _plain(text),
        "confirm": _plain(confirm),
        "deny": _plain("Keep it"),
        "style": "danger",
    }


def button(
    label: str, action_id: str, value: str, *, danger: bool = False, confirm: str | None = None
) -> Block:
    element: Block = {"type": "button", "text": _plain(label), "action_id": action_id, "value": value}
    if danger:
        element["style"] = "danger"
    if confirm:
        element["confirm"] = _confirm("Forget for good?", confirm, "Forget")
    return element


def notice(plain_text: str) -> Message:
    """A message of plain wording (which may quote the person's own memory)."""
    return {"text": fit(plain_text, MESSAGE_TEXT_LIMIT)}


def _record_section(record: MemoryRecord, *, with_id: bool, accessory: Block | None = None) -> Block:
    block = section("• " + replies.record_line(record, with_id=with_id))
    if accessory:
        block["accessory"] = accessory
    return block


def _pager(action_id: str, page: int, pages: int) -> list[Block]:
    if pages <= 1:
        return []
    buttons = []
    if page > 1:
        buttons.append(button("◀ Previous", action_id, str(page - 1)))
    if page < pages:
        buttons.append(button("Next ▶", action_id, str(page + 1)))
    return [{"type": "actions", "elements": buttons}]


def recalled(result: Recalled) -> Message:
    """Search results, or one page of everything with Previous/Next buttons."""
    wording = replies.recalled(result)
    if not result.records:
        return notice(wording)
    header = wording.split("\n", 1)[0]
    blocks = [section(header)]
    blocks += [
        _record_section(record, with_id=True, accessory=button("Edit", EDIT, record.id))
        for record in result.records
    ]
    blocks += _pager(RECALL_PAGE, result.page, result.pages)
    return {"text": fit(header), "blocks": blocks}


def forget_question(plan: ForgetPlan) -> Message:
    """The question for ``/forget`` with danger buttons that each ask once more before erasing."""
    question = replies.forget_question(plan)
    if plan.kind == "nothing":
        return notice(question)
    cancel = button("Cancel", FORGET_CANCEL, "cancel")
    if plan.kind == "choose":
        blocks = [section(question.split("\n", 1)[0])]
        for record in plan.records:
            forget = button("Forget", FORGET, record.id, danger=True, confirm="Erase this memory for good?")
            blocks.append(_record_section(record, with_id=False, accessory=forget))
        blocks.append({"type": "actions", "elements": [cancel]})
        return {"text": fit(question.split("\n", 1)[0]), "blocks": blocks}
    if plan.kind == "everything":
        noun = "memory" if plan.count == 1 else "memories"
        forget = button(
            "Forget everything", FORGET, EVERYTHING, danger=True, confirm=f"Erase all {plan.count} {noun}?"
        )
    else:
        forget = button("Forget it", FORGET, plan.records[0].id, danger=True, confirm="Erase this memory?")
    return {
        "text": fit(question, MESSAGE_TEXT_LIMIT),
        "blocks": [section(question), {"type": "actions", "elements": [forget, cancel]}],
    }


def saved_message(record: MemoryRecord) -> Message:
    """The confirmation of a "Remember this", with an Undo button that carries only the memory id."""
    confirmation = saved_messages.saved(record.text)
    undo = button(saved_messages.UNDO_LABEL, UNDO_REMEMBER, record.id)
    return {
        "text": fit(confirmation, MESSAGE_TEXT_LIMIT),
        "blocks": [section(confirmation), {"type": "actions", "elements": [undo]}],
    }


def help_text() -> str:
    usage = {
        **replies.USAGE,
        "export": "/cubby export - all your memories as a JSON file, sent to you privately",
        "expiry": "/cubby expiry <30 days | off> - make new memories expire after a while, or keep them",
        "pause": "/cubby pause, /cubby resume, /cubby status - stop or restart learning from our chats",
        "import": "/cubby import - upload your Cubby export in our DM, then type this there",
    }
    lines = ["I keep a private memory for you. Commands:", *(f"  {line}" for line in usage.values())]
    return "\n".join([*lines, "Or just message me, or mention me in a channel.", replies.PRIVACY_NOTE])


def home_view(result: Recalled, *, notice_text: str | None = None) -> dict[str, Any]:
    """The App Home tab of one person: their memories (one page), each with a delete button."""
    blocks: list[Block] = [
        {"type": "header", "text": _plain(HOME_TITLE)},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(replies.PRIVACY_NOTE)}]},
    ]
    if notice_text:
        blocks.append(section(notice_text))
    actions = [button("Export my memories", HOME_EXPORT, "export")]
    if result.total:
        noun = "memory" if result.total == 1 else "memories"
        actions.append(
            button(
                "Forget everything",
                HOME_FORGET_ALL,
                EVERYTHING,
                danger=True,
                confirm=f"Erase all {result.total} {noun}?",
            )
        )
    blocks += [{"type": "actions", "elements": actions}, {"type": "divider"}]
    if not result.total:
        blocks.append(section("I don't remember anything about you yet. Try /remember <text>."))
    else:
        summary = f"{result.total} {'memory' if result.total == 1 else 'memories'}"
        if result.pages > 1:
            summary += f" - page {result.page} of {result.pages}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": summary}]})
        for record in result.records:
            delete = button("Delete", HOME_DELETE, record.id, danger=True, confirm="Erase this memory?")
            blocks.append(_record_section(record, with_id=False))
            blocks.append({"type": "actions", "elements": [button("Edit", EDIT, record.id), delete]})
        blocks += _pager(HOME_PAGE, result.page, result.pages)
    return {"type": "home", "private_metadata": str(result.page), "blocks": blocks}


def home_apology(message: str) -> dict[str, Any]:
    """A Home tab that only says something went wrong (when the memories cannot be read)."""
    return {
        "type": "home",
        "blocks": [{"type": "header", "text": _plain(HOME_TITLE)}, section(message)],
    }


def edit_modal(record: MemoryRecord, *, origin: str, max_chars: int) -> dict[str, Any]:
    """The modal that edits one memory, prefilled with its text (the modal is only ever opened for
    the memory's owner). ``private_metadata`` names the memory and where the edit started (a
    ``response_url`` or "home"); the submission re-derives whose memory it is from the submitter."""
    metadata = json.dumps({"id": record.id, "origin": origin})
    text_input = {
        "type": "plain_text_input",
        "action_id": EDIT_INPUT,
        "multiline": True,
        "max_length": min(max_chars, 3000),
        "initial_value": record.text[:3000],
    }
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL,
        "private_metadata": metadata,
        "title": _plain("Edit a memory"),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_INPUT,
                "label": _plain("What I should remember"),
                "element": text_input,
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "The old text is erased when you save."}],
            },
        ],
    }

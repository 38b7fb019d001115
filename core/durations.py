"""Expiry durations as people type them: "30 days", "2 weeks", "for 6 months", "until 2027-01-31".

``/remember <text> for 30 days`` keeps the text for that long; the duration is taken only from the
end of the text, and only when it is a number and a known unit, so "for the team" stays text.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from core.errors import InvalidInput
from core.records import utc_now

MAX_DAYS = 3650  # ten years: longer is almost certainly a typo, and "keep" needs no expiry at all

_UNITS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
_UNIT = r"(?P<unit>hours?|days?|weeks?|months?|years?)"
_AMOUNT = r"(?P<amount>[+-]?\d{1,6}|an?|one)"
_SPAN = re.compile(rf"{_AMOUNT}\s+{_UNIT}", re.IGNORECASE)
_UNTIL = re.compile(r"until\s+(?P<date>\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_TRAILING = re.compile(rf"\s+(?:for\s+{_SPAN.pattern}|{_UNTIL.pattern})\s*[.!]?\s*$", re.IGNORECASE)


def _days(amount: str, unit: str) -> float:
    count = 1 if amount.lower() in ("a", "an", "one") else int(amount)
    if count <= 0:
        raise InvalidInput("an expiry must be in the future - give a positive number, e.g. for 30 days")
    days = count * _UNITS[unit.lower().rstrip("s")]
    if days > MAX_DAYS:
        raise InvalidInput(f"an expiry can be at most {MAX_DAYS // 365} years away")
    return days


def _until(text: str, now: datetime) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a date (use YYYY-MM-DD)") from None
    when = datetime.combine(day, time(0, 0), tzinfo=UTC) + timedelta(days=1)  # to the end of that day
    if when <= now:
        raise InvalidInput(f"{text} has already passed - an expiry must be in the future")
    if when - now > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"an expiry can be at most {MAX_DAYS // 365} years away")
    return when


def parse_span(text: str) -> timedelta:
    """A duration on its own, such as "30 days" or "a year" (for a person's default expiry)."""
    match = _SPAN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput('give a duration such as "30 days", "2 weeks" or "a year"')
    return timedelta(days=_days(match["amount"], match["unit"]))


def split_expiry(text: str, now: datetime | None = None) -> tuple[str, datetime | None]:
    """``text`` without a trailing "for <duration>" / "until <date>", and the expiry it names (None
    when it names none). Raises :class:`InvalidInput` for a duration that is not in the future."""
    now = now or utc_now()
    match = _TRAILING.search(text) if isinstance(text, str) else None
    if match is None:
        return text, None
    if match["date"]:
        when = _until(match["date"], now)
    else:
        when = now + timedelta(days=_days(match["amount"], match["unit"]))
    return text[: match.start()], when

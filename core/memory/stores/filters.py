"""Exact evaluation of mem0's filter language against a memory's payload.

mem0 hands a vector store filters with AND already flattened, OR and NOT as ``$or`` / ``$not`` lists,
comparison operators as ``{"field": {"eq"|"ne"|"gt"|...: value}}`` and ``"*"`` meaning "the field is
present". Every condition is applied; anything not understood raises :class:`UnsupportedFilter`
instead of being skipped, because a skipped condition widens a query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class UnsupportedFilter(ValueError):
    """A filter this store cannot apply exactly."""


_MISSING = object()


def _compare(op: str, expected: Any) -> Callable[[Any], bool]:
    def ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any], bool]:
        def check(actual: Any) -> bool:
            if actual is _MISSING or actual is None:
                return False
            try:
                return bool(test(actual, expected))
            except TypeError:
                return False

        return check

    if op == "eq":
        return lambda actual: actual is not _MISSING and actual == expected
    if op == "ne":
        return lambda actual: actual is _MISSING or actual != expected
    if op in ("in", "nin"):
        if not isinstance(expected, list | tuple | set | frozenset):
            raise UnsupportedFilter(f"'{op}' needs a list")
        members = list(expected)
        if op == "in":
            return lambda actual: actual is not _MISSING and actual in members
        return lambda actual: actual is _MISSING or actual not in members
    if op == "gt":
        return ordered(lambda a, e: a > e)
    if op == "gte":
        return ordered(lambda a, e: a >= e)
    if op == "lt":
        return ordered(lambda a, e: a < e)
    if op == "lte":
        return ordered(lambda a, e: a <= e)
    if op in ("contains", "icontains"):
        if not isinstance(expected, str):
            raise UnsupportedFilter(f"'{op}' needs a string")
        if op == "contains":
            return lambda actual: isinstance(actual, str) and expected in actual
        needle = expected.casefold()
        return lambda actual: isinstance(actual, str) and needle in actual.casefold()
    raise UnsupportedFilter(f"unsupported filter operator {op!r}")


def _field(name: str, condition: Any) -> Predicate:
    if not isinstance(name, str) or not name or name.startswith("$") or name in ("AND", "OR", "NOT"):
        raise UnsupportedFilter(f"unsupported filter key {name!r}")
    if isinstance(condition, Mapping):
        if not condition:
            raise UnsupportedFilter(f"empty condition for {name!r}")
        checks = [_compare(op, value) for op, value in condition.items()]
        return lambda payload: all(check(payload.get(name, _MISSING)) for check in checks)
    if condition == "*":
        return lambda payload: name in payload
    return lambda payload: payload.get(name, _MISSING) == condition


def _any_of(branches: list[Predicate]) -> Predicate:
    return lambda payload: any(p(payload) for p in branches)


def _none_of(branches: list[Predicate]) -> Predicate:
    return lambda payload: not any(p(payload) for p in branches)


def compile_filter(filters: Mapping[str, Any] | None) -> Predicate:
    """A predicate that is true exactly for payloads matching ``filters`` (all conditions ANDed)."""
    if filters is None:
        return lambda payload: True
    if not isinstance(filters, Mapping):
        raise UnsupportedFilter("filters must be a mapping")
    parts: list[Predicate] = []
    for key, value in filters.items():
        if key in ("$or", "$not"):
            if not isinstance(value, list) or not value:
                raise UnsupportedFilter(f"{key} needs a non-empty list")
            branches = [compile_filter(branch) for branch in value]
            parts.append(_any_of(branches) if key == "$or" else _none_of(branches))
        elif key == "$and":
            if not isinstance(value, list) or not value:
                raise UnsupportedFilter("$and needs a non-empty list")
            parts.extend(compile_filter(branch) for branch in value)
        else:
            parts.append(_field(key, value))
    return lambda payload: all(part(payload) for part in parts)


def scoped_user(filters: Mapping[str, Any] | None) -> str:
    """The one user a read is confined to. Every read of this store names exactly one user with a
    plain string; ``"*"``, operators, or no user at all are refused."""
    user = (filters or {}).get("user_id") if isinstance(filters, Mapping) else None
    if not isinstance(user, str) or not user or user == "*" or user != user.strip():
        raise UnsupportedFilter("every read must be scoped to exactly one user_id")
    return user


def beyond_the_user(filters: Mapping[str, Any] | None) -> bool:
    """Whether ``filters`` asks for more than the rows of its one user (whom every read names): only
    then must a read look into each row's payload to choose rows."""
    return not (isinstance(filters, Mapping) and set(filters) == {"user_id"})

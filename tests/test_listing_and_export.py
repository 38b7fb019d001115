"""A person's listing and export, pinned: the order, the records and the exported bytes stay exactly
what they are for rows with odd timestamps, sources and expiries, on every backend.

The rows are written straight through the store, as mem0 or an older Cubby could have left them, so
the listing has to cope with what it finds rather than with what Cubby writes today."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from core import Hub, UserKey, commands

pytestmark = pytest.mark.every_backend

ALICE, BOB = UserKey.cli("alice"), UserKey.cli("bob")


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _row(n: int, text: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return _id(n), {"user_id": str(ALICE), "role": "user", "data": text, "hash": f"h{n}", **fields}


PACIFIC = "2026-03-01T10:00:00.123456-08:00"
TIE = "2026-02-10T08:00:00+00:00"

ROWS = [
    _row(
        1,
        'quotes " and \\ and a new\nline, "}, {" and ünïcødé ✓',
        created_at=PACIFIC,
        updated_at=PACIFIC,
        source={
            "platform": "slack",
            "channel": "C1",
            "at": PACIFIC,
            "how": "typed",
            "permalink": "https://x.slack.com/archives/C1/p1",
        },
    ),
    _row(2, "no created_at at all", source={"platform": "cli", "at": "2026-01-01T00:00:00Z"}),
    _row(3, "created_at is a number", created_at=12345, updated_at="2026-01-05T00:00:00"),
    _row(
        4,
        "naive creation, fractional zero update, an expiry, a source without platform",
        created_at="2026-02-01T09:30:00",
        updated_at="2026-02-02T00:00:00.000000+00:00",
        expires_at="2099-01-31T00:00:00+00:00",
        source={"channel": "dm"},
    ),
    _row(6, "second of a tie on created_at", created_at=TIE, updated_at=TIE),
    _row(5, "first of a tie on created_at", created_at=TIE, updated_at="2026-02-11T08:00:00+02:00"),
    _row(7, "created_at is not a time", created_at="not a time", updated_at="not a time either"),
    _row(
        8, "already expired", created_at="2026-01-02T00:00:00+00:00", expires_at="2020-01-01T00:00:00+00:00"
    ),
    _row(
        9, "past mem0's expiration date", created_at="2026-01-03T00:00:00+00:00", expiration_date="2020-01-01"
    ),
    _row(
        10,
        "a source with everything odd",
        created_at="2026-02-20T00:00:00+00:00",
        updated_at="2026-02-20T00:00:00+00:00",
        source={
            "platform": "discord",
            "channel": "c" * 250,
            "at": "2026-02-19T23:00:00-01:00",
            "how": "by pigeon",
            "permalink": "http://not-https",
            "workspace": "812",
            "author": "99",
        },
    ),
    _row(11, "created_at is explicitly null", created_at=None, updated_at=None),
]


def _store(hub: Hub) -> Any:
    return hub._backend.inner.store


def _write(hub: Hub, rows: list[tuple[str, dict[str, Any]]]) -> None:
    store = _store(hub)
    store.keyring.ensure_many(sorted({payload["user_id"] for _, payload in rows}))
    vectors = [[1.0 + i] + [0.5] * (store.embedding_model_dims - 1) for i in range(len(rows))]
    store.insert(vectors, [payload for _, payload in rows], [id_ for id_, _ in rows])


EXPECTED_ORDER = [_id(n) for n in (2, 11, 3, 4, 5, 6, 10, 1, 7)]

#: The export of ROWS as Cubby wrote it before its listing was made fast (the clock left out), and
#: since exports show the person's settings and posts, with those (defaults: none stored).
PINNED_EXPORT = Path(__file__).parent / "data" / "pinned_export.json"


def _without_clock(content: bytes) -> str:
    return re.sub(r'"exported_at": "[^"]*"', '"exported_at": "-"', content.decode("utf-8"))


async def test_the_listing_keeps_its_order_and_drops_what_has_expired(hub: Hub) -> None:
    _write(hub, ROWS)
    _write(
        hub, [(_id(99), {"user_id": str(BOB), "data": "bob's", "created_at": "2000-01-01T00:00:00+00:00"})]
    )
    assert [record.id for record in await hub.scoped(ALICE).get_all()] == EXPECTED_ORDER
    assert [record.id for record in await hub.scoped(BOB).get_all()] == [_id(99)]


async def test_the_export_is_byte_for_byte_what_it_was(hub: Hub) -> None:
    _write(hub, ROWS)
    exported = await commands.export(hub.scoped(ALICE))
    assert exported.count == len(EXPECTED_ORDER)
    assert exported.memory_ids == tuple(EXPECTED_ORDER)
    assert _without_clock(exported.content) == PINNED_EXPORT.read_text(encoding="utf-8")
    assert json.loads(exported.content)["count"] == len(EXPECTED_ORDER)


async def test_the_store_lists_oldest_first_with_filters_and_a_limit(hub: Hub) -> None:
    _write(hub, ROWS)
    store = _store(hub)
    mine = {"user_id": str(ALICE)}
    [everything] = store.list(filters=mine, top_k=None)
    listed = [_id(n) for n in (2, 11, 3, 8, 9, 4, 5, 6, 10, 1, 7)]  # the store does not judge expiry
    assert [row.id for row in everything] == listed
    [first_three] = store.list(filters=mine, top_k=3)
    assert [row.id for row in first_three] == listed[:3]
    [none] = store.list(filters=mine, top_k=0)
    assert none == []
    [with_a_source] = store.list(filters={**mine, "source": "*"}, top_k=None)
    assert [row.id for row in with_a_source] == [_id(n) for n in (2, 4, 10, 1)]
    [typed] = store.list(filters={**mine, "data": {"contains": "tie"}}, top_k=1)
    assert [row.id for row in typed] == [_id(5)]
    assert everything[-1].payload["created_at"] == "not a time"
    assert everything[0].payload == {
        "user_id": str(ALICE),
        "role": "user",
        "data": "no created_at at all",
        "hash": "h2",
        "source": {"platform": "cli", "at": "2026-01-01T00:00:00Z"},
    }


async def test_a_heavy_listing_keeps_its_order_across_decoding_blocks(hub: Hub) -> None:
    # More rows than one json.loads decodes together, created out of order, with ties and one row
    # whose created_at is not text (which sends the listing down its slower path in the second half).
    rows = [
        _row(1000 + n, f"memory {n}", created_at=f"2026-01-{1 + (n * 7919) % 28:02d}T00:00:00+00:00")
        for n in range(700)
    ]
    _write(hub, rows)
    expected = sorted((payload["created_at"], id_) for id_, payload in rows)
    assert [r.id for r in await hub.scoped(ALICE).get_all()] == [id_ for _, id_ in expected]
    [first_ten] = _store(hub).list(filters={"user_id": str(ALICE)}, top_k=10)
    assert [row.id for row in first_ten] == [id_ for _, id_ in expected[:10]]

    _write(hub, [_row(5000, "created_at is a number", created_at=20251231)])
    listed = [r.id for r in await hub.scoped(ALICE).get_all()]
    assert listed == [_id(5000)] + [id_ for _, id_ in expected]  # "20251231" sorts before "2026-"


async def test_rows_under_a_destroyed_key_are_never_listed(hub: Hub) -> None:
    _write(hub, ROWS[:3])
    store = _store(hub)
    store.keyring.destroy(str(ALICE))  # as if the rows came back from a backup after a forget
    assert await hub.scoped(ALICE).get_all() == []
    assert store.list(filters={"user_id": str(ALICE)}, top_k=None) == [[]]
    _write(hub, [_row(20, "written under the new key", created_at="2026-05-01T00:00:00+00:00")])
    assert [r.text for r in await hub.scoped(ALICE).get_all()] == ["written under the new key"]


async def test_a_listed_row_of_someone_else_is_dropped_and_logged_without_its_text(
    hub: Hub, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No store can return such a row (each opens only its caller's rows under their key), so the
    # backend's own check is exercised by a store that misbehaves.
    store = _store(hub)
    mallorys = {"user_id": "cli:mallory", "data": "mallory's secret plan", "created_at": TIE}
    monkeypatch.setattr(store, "listed", lambda user, build: [r for r in [build(_id(1), mallorys)] if r])
    assert await hub.scoped(ALICE).get_all() == []
    assert "did not belong" in caplog.text
    assert "secret plan" not in caplog.text


def _pages_of(records: list[Any], page: int, size: int) -> tuple[list[str], int]:
    """The ids of page ``page`` of ``records`` (moved into the pages there are) and the page."""
    last = max(1, -(-len(records) // size))
    page = min(max(1, page), last)
    return [record.id for record in records[(page - 1) * size : page * size]], page


async def test_a_page_is_its_cut_of_the_listing_and_only_its_rows_are_opened(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        _row(1000 + n, f"memory {n}", created_at=f"2026-01-{1 + (n * 7919) % 28:02d}T00:00:00+00:00")
        for n in range(95)
    ]
    rows.append(_row(2000, "expired", created_at=TIE, expires_at="2020-01-01T00:00:00+00:00"))
    rows.append(_row(2001, "expires later", created_at=TIE, expires_at="2099-01-01T00:00:00+00:00"))
    _write(hub, rows)
    alice = hub.scoped(ALICE)
    everything = await alice.get_all()
    assert len(everything) == 96  # the expired one is neither listed nor counted

    store = _store(hub)
    opened: list[int] = []
    live_page = store._live_page
    monkeypatch.setattr(store, "listed", lambda *_: pytest.fail("the whole listing was built"))
    monkeypatch.setattr(store, "_live_page", lambda *a: opened.append(len(rows := live_page(*a))) or rows)
    for page in (1, 2, 5, 10, 11, 0, -3, 99):
        records, total, shown = await alice.page(page, 10)
        assert ([r.id for r in records], shown) == _pages_of(everything, page, 10)
        assert records == everything[(shown - 1) * 10 : shown * 10] and total == 96
    assert max(opened) == 10

    recalled = await commands.recall(alice, None, page=10)
    assert (recalled.page, recalled.pages, recalled.total, len(recalled.records)) == (10, 10, 96, 6)


async def test_a_page_of_rows_ordered_inside_their_ciphertext_is_cut_from_the_whole_listing(
    hub: Hub,
) -> None:
    _write(hub, ROWS)  # some rows have no created_at in clear: only the full listing orders them
    for page in (1, 2, 3, 4):
        records, total, shown = await hub.scoped(ALICE).page(page, 4)
        assert [r.id for r in records] == EXPECTED_ORDER[(shown - 1) * 4 : shown * 4]
        assert total == len(EXPECTED_ORDER) and shown == min(page, 3)
    assert await hub.scoped(BOB).page(1, 10) == ([], 0, 1)

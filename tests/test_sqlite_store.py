"""The embedded vector store: every read is confined to one user, every filter is applied exactly
or refused, and a row's owner never changes."""

from pathlib import Path

import numpy as np
import pytest

from core.memory.crypto import Keyring, MasterKey
from core.memory.crypto.key_table import SQLiteKeyTable
from core.memory.stores.filters import UnsupportedFilter
from core.memory.stores.sqlite import SQLiteVectorStore

DIMS = 8


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=DIMS)
    return (vector / np.linalg.norm(vector)).tolist()


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())


@pytest.fixture
def store(tmp_path: Path, keyring: Keyring) -> SQLiteVectorStore:
    store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring=keyring)
    rows = [
        ("a1", "alice", "likes green tea", {"tag": "drink", "n": 1}),
        ("a2", "alice", "plays tennis on sundays", {"tag": "sport", "n": 5}),
        ("a3", "alice", "allergic to peanuts", {"tag": "food", "n": 9}),
        ("b1", "bob", "likes green tea too", {"tag": "drink", "n": 2}),
        ("b2", "bob:extra", "a key that shares a prefix", {"tag": "drink", "n": 3}),
    ]
    store.insert(
        vectors=[unit(i) for i in range(len(rows))],
        ids=[r[0] for r in rows],
        payloads=[{"user_id": r[1], "data": r[2], **r[3]} for r in rows],
    )
    return store


def ids(hits) -> set[str]:
    return {hit.id for hit in hits}


def test_search_scores_only_the_one_users_rows(store: SQLiteVectorStore) -> None:
    hits = store.search("q", unit(3), top_k=10, filters={"user_id": "bob"})
    assert ids(hits) == {"b1"}
    # The probe is b1's own vector... for bob. For alice, it is never returned.
    assert "b1" not in ids(store.search("q", unit(3), top_k=10, filters={"user_id": "alice"}))


def test_search_ranks_by_cosine_similarity(store: SQLiteVectorStore) -> None:
    hits = store.search("q", unit(1), top_k=3, filters={"user_id": "alice"})
    # Vectors are kept as int8: a row's own vector scores 1 within a few thousandths.
    assert hits[0].id == "a2" and hits[0].score == pytest.approx(1.0, abs=5e-3)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    "filters",
    [
        None,
        {},
        {"user_id": "*"},
        {"user_id": ""},
        {"user_id": " alice"},
        {"user_id": ["alice", "bob"]},
        {"user_id": {"in": ["alice", "bob"]}},
        {"tag": "drink"},
        {"agent_id": "*"},
        {"$or": [{"user_id": "alice"}, {"user_id": "bob"}]},
    ],
)
def test_reads_without_exactly_one_user_are_refused(store: SQLiteVectorStore, filters) -> None:
    with pytest.raises(UnsupportedFilter):
        store.search("q", unit(0), top_k=5, filters=filters)
    with pytest.raises(UnsupportedFilter):
        store.list(filters=filters)
    with pytest.raises(UnsupportedFilter):
        store.keyword_search("tea", filters=filters)


def test_an_or_over_users_cannot_widen_a_scoped_read(store: SQLiteVectorStore) -> None:
    filters = {"user_id": "alice", "$or": [{"user_id": "alice"}, {"user_id": "bob"}]}
    assert ids(store.list(filters=filters)[0]) == {"a1", "a2", "a3"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"tag": "drink"}, {"a1"}),
        ({"tag": {"eq": "food"}}, {"a3"}),
        ({"tag": {"ne": "food"}}, {"a1", "a2"}),
        ({"tag": {"in": ["food", "sport"]}}, {"a2", "a3"}),
        ({"tag": {"nin": ["food", "sport"]}}, {"a1"}),
        ({"n": {"gt": 1}}, {"a2", "a3"}),
        ({"n": {"gte": 5, "lt": 9}}, {"a2"}),
        ({"n": {"lte": 1}}, {"a1"}),
        ({"data": {"contains": "tennis"}}, {"a2"}),
        ({"data": {"icontains": "PEANUT"}}, {"a3"}),
        ({"tag": "*"}, {"a1", "a2", "a3"}),
        ({"missing": "*"}, set()),
        ({"$or": [{"tag": "drink"}, {"n": {"gt": 8}}]}, {"a1", "a3"}),
        ({"$not": [{"tag": "drink"}]}, {"a2", "a3"}),
    ],
)
def test_metadata_filters_are_applied_exactly(store: SQLiteVectorStore, condition, expected) -> None:
    filters = {"user_id": "alice", **condition}
    assert ids(store.list(filters=filters)[0]) == expected
    assert ids(store.search("q", unit(0), top_k=10, filters=filters)) == expected


@pytest.mark.parametrize(
    "condition",
    [
        {"tag": {"regex": ".*"}},
        {"tag": {}},
        {"$or": []},
        {"$or": "tag"},
        {"$xor": [{"tag": "a"}]},
        {"OR": [{"tag": "drink"}]},
        {"tag": {"in": "drink"}},
        {"data": {"contains": 5}},
    ],
)
def test_filters_it_cannot_apply_raise_instead_of_being_dropped(store: SQLiteVectorStore, condition) -> None:
    with pytest.raises(UnsupportedFilter):
        store.list(filters={"user_id": "alice", **condition})


def test_keyword_search_ranks_the_users_own_matching_rows(store: SQLiteVectorStore) -> None:
    hits = store.keyword_search("green tea", filters={"user_id": "alice"})
    assert ids(hits) == {"a1"} and hits[0].score > 0
    assert store.keyword_search("tennis", filters={"user_id": "bob"}) == []


def test_a_rows_owner_never_changes(store: SQLiteVectorStore) -> None:
    with pytest.raises(ValueError):
        store.update("a1", payload={"user_id": "bob", "data": "moved"})
    with pytest.raises(ValueError):
        store.insert(vectors=[unit(9)], ids=["x"], payloads=[{"data": "no owner"}])
    assert store.get("a1").payload["user_id"] == "alice"


def test_vectors_of_the_wrong_shape_are_refused(store: SQLiteVectorStore) -> None:
    with pytest.raises(ValueError):
        store.insert(vectors=[[1.0] * (DIMS + 1)], ids=["x"], payloads=[{"user_id": "alice"}])
    with pytest.raises(ValueError):
        store.insert(vectors=[[float("nan")] * DIMS], ids=["x"], payloads=[{"user_id": "alice"}])
    with pytest.raises(ValueError):
        store.search("q", [0.0] * DIMS, filters={"user_id": "alice"})


def test_prefix_listing_matches_literally_not_as_a_pattern(store: SQLiteVectorStore) -> None:
    assert sorted(store.users_with_prefix("bob")) == ["bob", "bob:extra"]
    assert store.users_with_prefix("bob:") == ["bob:extra"]
    assert store.users_with_prefix("%") == []
    assert store.users_with_prefix("_lice") == []


def test_delete_user_removes_only_that_users_rows(store: SQLiteVectorStore) -> None:
    assert store.delete_user("alice") == 3
    assert store.count("alice") == 0 and store.count("bob") == 1 and store.count("bob:extra") == 1


def test_a_second_connection_sees_committed_writes(store: SQLiteVectorStore, keyring: Keyring) -> None:
    other = SQLiteVectorStore("memories", str(store.path), DIMS, keyring=keyring)
    assert other.count("alice") == 3
    other.delete("a1")
    assert store.count("alice") == 2
    assert store.integrity_check() == "ok"

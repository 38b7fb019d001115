"""A heavy person's search index, held between searches: the same results as scoring their rows,
never stale after another process writes, unreadable the moment the person is forgotten anywhere,
and sealed under the person's key while it is held.

Two store objects on one database stand for two Cubby processes. Both stores run: the embedded one,
and PostgreSQL on the test server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag

from core.memory.crypto import Keyring, MasterKey
from core.memory.crypto.key_table import SQLiteKeyTable
from core.memory.stores.person_index import HeldIndexes, Scoring
from core.memory.stores.sqlite import SQLiteVectorStore

DIMS = 16
WORDS = [
    "tea",
    "coffee",
    "green",
    "window",
    "seat",
    "aisle",
    "vegetarian",
    "vegan",
    "peanut",
    "allergy",
    "berlin",
    "paris",
    "monday",
]
ALICE, BOB = "cli:alice", "cli:bob"

OpenStore = Callable[..., Any]


def unit(rng: np.random.Generator) -> list[float]:
    vector = rng.normal(size=DIMS)
    return (vector / np.linalg.norm(vector)).tolist()


def sentence(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, size=int(rng.integers(2, 9))))


def add(store: Any, user: str, count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(count)]
    payloads = [{"user_id": user, "data": sentence(rng), "n": i % 3} for i in range(count)]
    store.insert([unit(rng) for _ in range(count)], payloads, ids)
    return ids


@pytest.fixture(params=["embedded", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens another store object (another process) on the same database each time it is called."""
    opened: list[Any] = []
    master = MasterKey.generate()

    def embedded(**held: Any) -> Any:
        keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), master)
        indexes = HeldIndexes("memories", DIMS, **held)
        store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring, indexes)
        opened.append(store)
        return store

    def postgres(**held: Any) -> Any:
        from core import load_settings
        from core.memory.backends import open_keyring, postgres_store
        from core.memory.stores.postgres import PostgresVectorStore

        settings = load_settings(
            data_dir=tmp_path / "data", backend="postgres", database_url=url, master_key="cd" * 32
        )
        _, config = postgres_store(settings)
        fields = config.model_copy(update={"embedding_model_dims": DIMS}).model_dump()
        store = PostgresVectorStore(
            **fields, held_indexes=HeldIndexes(fields["collection_name"], DIMS, **held)
        )
        store.use_keyring(open_keyring(settings))
        opened.append(store)
        return store

    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        yield postgres
    else:
        yield embedded
    for store in opened:
        store.close()
        store.keyring.close()


def results(store: Any, user: str, seed: int) -> list[list[tuple[str, float]]]:
    """Vector and keyword results for a few queries, as (id, score) pairs."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(6):
        query = sentence(rng)
        hits = store.search(query, unit(rng), top_k=7, filters={"user_id": user})
        found.append([(hit.id, round(hit.score, 6)) for hit in hits])
        hits = store.keyword_search(query, top_k=7, filters={"user_id": user})
        found.append([(hit.id, round(hit.score, 6)) for hit in hits])
    return found


def test_a_held_index_ranks_exactly_as_scoring_the_rows(open_store: OpenStore) -> None:
    held = open_store(min_rows=1)
    add(held, ALICE, 300, seed=1)
    add(held, BOB, 20, seed=2)
    scored_from_rows = open_store(min_rows=10**9)
    expected = results(scored_from_rows, ALICE, seed=3)
    assert results(held, ALICE, seed=3) == expected  # builds and holds the index
    assert held.held_indexes.holds(ALICE) and not scored_from_rows.held_indexes.holds(ALICE)
    assert results(held, ALICE, seed=3) == expected  # answered from the held index
    hits = held.search("", unit(np.random.default_rng(4)), top_k=5, filters={"user_id": ALICE, "n": 1})
    assert len(hits) == 5 and all(hit.payload["n"] == 1 and hit.payload["user_id"] == ALICE for hit in hits)
    assert {
        hit.payload["user_id"]
        for hit in held.search("", unit(np.random.default_rng(5)), 50, {"user_id": BOB})
    } == {BOB}


def test_writes_by_another_process_are_seen_at_once(open_store: OpenStore) -> None:
    reader, writer = open_store(min_rows=1), open_store(min_rows=1)
    add(writer, ALICE, 50, seed=1)
    probe = unit(np.random.default_rng(9))
    assert len(reader.search("", probe, top_k=100, filters={"user_id": ALICE})) == 50
    assert reader.held_indexes.holds(ALICE)

    (new_id,) = add(writer, ALICE, 1, seed=2)
    writer.update(new_id, vector=probe, payload={"user_id": ALICE, "data": "zebra crossing"})
    best = reader.search("", probe, top_k=1, filters={"user_id": ALICE})
    assert [hit.id for hit in best] == [new_id] and best[0].payload["data"] == "zebra crossing"
    assert [hit.id for hit in reader.keyword_search("zebra", filters={"user_id": ALICE})] == [new_id]

    writer.delete(new_id)
    assert new_id not in {hit.id for hit in reader.search("", probe, top_k=100, filters={"user_id": ALICE})}
    assert reader.keyword_search("zebra", filters={"user_id": ALICE}) == []


def test_a_forget_in_another_process_leaves_the_held_index_unreadable(open_store: OpenStore) -> None:
    reader, forgetter = open_store(min_rows=1), open_store(min_rows=1)
    add(reader, ALICE, 40, seed=1)
    probe = unit(np.random.default_rng(9))
    key = reader.keyring.current(ALICE)
    assert reader.search("", probe, top_k=3, filters={"user_id": ALICE})
    assert reader.held_indexes.holds(ALICE)

    forgetter.keyring.destroy(ALICE)  # a forget destroys the key first...
    assert reader.search("", probe, top_k=3, filters={"user_id": ALICE}) == []
    assert reader.keyword_search("tea", filters={"user_id": ALICE}) == []
    assert not reader.held_indexes.holds(ALICE)
    forgetter.delete_user(ALICE)  # ...then deletes the rows

    add(forgetter, ALICE, 3, seed=5)  # the same person starts again, under a new key
    assert reader.keyring.current(ALICE).key_id != key.key_id
    assert len(reader.search("", probe, top_k=10, filters={"user_id": ALICE})) == 3


def test_the_held_index_is_ciphertext_that_opens_only_with_its_persons_key(tmp_path: Path) -> None:
    keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())
    indexes = HeldIndexes("memories", DIMS, min_rows=1)
    store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring, indexes)
    add(store, ALICE, 30, seed=1)
    add(store, BOB, 30, seed=2)
    store.search("", unit(np.random.default_rng(3)), top_k=3, filters={"user_id": ALICE})
    [(row_id, created_at, sealed)] = store._query(
        f"SELECT id, created_at, sealed FROM {store._table} WHERE user_id = ? LIMIT 1", (ALICE,)
    )
    alice, bob = keyring.current(ALICE), keyring.current(BOB)
    plaintext = store._open(alice, row_id, created_at, sealed)
    held = indexes._held[ALICE]
    assert plaintext[1 : 1 + DIMS] not in held.sealed  # the int8 vector is not held in clear
    version = store._version(store._db, ALICE)
    assert isinstance(indexes.open(alice, version), Scoring)
    with pytest.raises(InvalidTag):
        indexes.open(type(alice)(ALICE, alice.key_id, bob.aead), version)
    store.close()
    keyring.close()


def test_nobody_else_moves_a_held_index_out_and_idle_ones_go(tmp_path: Path) -> None:
    keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())
    indexes = HeldIndexes("memories", DIMS, min_rows=1)
    store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring, indexes)
    add(store, ALICE, 200, seed=1)
    add(store, BOB, 200, seed=2)
    probe = unit(np.random.default_rng(3))
    store.search("", probe, top_k=3, filters={"user_id": ALICE})
    indexes.budget_bytes = indexes.held_bytes() + 100  # room for alice's index only
    store.search("", probe, top_k=3, filters={"user_id": BOB})
    assert indexes.holds(ALICE) and not indexes.holds(BOB)  # no room for bob's: alice's stays
    assert store.search("", probe, top_k=3, filters={"user_id": BOB})  # bob is scored from his rows

    indexes.idle_seconds = 0.0
    store.search("", probe, top_k=3, filters={"user_id": BOB})
    assert not indexes.holds(ALICE)
    store.close()
    keyring.close()


def test_people_with_few_memories_hold_nothing(open_store: OpenStore) -> None:
    store = open_store(min_rows=100)
    add(store, ALICE, 99, seed=1)
    assert len(store.search("", unit(np.random.default_rng(2)), top_k=200, filters={"user_id": ALICE})) == 99
    assert not store.held_indexes.holds(ALICE)
    add(store, ALICE, 1, seed=3)
    assert len(store.keyword_search("tea coffee green", top_k=200, filters={"user_id": ALICE})) > 0
    assert store.held_indexes.holds(ALICE)


@pytest.mark.parametrize("count", [1, 5, 60, 500])
def test_the_integer_first_pass_finds_exactly_the_best_rows(count: int) -> None:
    """The rows that scoring every row in float32 puts first, with their cosines (up to float32
    rounding: a subset is summed in a different order than the whole matrix)."""
    rng = np.random.default_rng(count)
    dims, rows = 384, 20_000
    # Near-duplicates and exact duplicates make near-ties, where a rounded score could reorder rows.
    base = rng.normal(size=(200, dims))
    vectors = base[rng.integers(0, 200, rows)] + rng.normal(scale=0.05, size=(rows, dims))
    int8 = np.round(vectors / np.abs(vectors).max(axis=1, keepdims=True) * 127).astype(np.int8)
    int8[1000:2000] = int8[:1000]
    norms = np.linalg.norm(int8.astype(np.float32), axis=1)
    scoring = Scoring(
        [str(i) for i in range(rows)], [None] * rows, int8, (1 / norms).astype(np.float32), dict
    )
    for _ in range(20):
        probe = (base[rng.integers(0, 200)] + rng.normal(scale=0.05, size=dims)).astype(np.float32)
        probe /= np.linalg.norm(probe)
        exact = scoring.cosine(probe)
        kth = np.sort(exact)[-count]
        order, scores = scoring.nearest(probe, count)
        assert len(order) == count and len(set(order.tolist())) == count
        np.testing.assert_allclose(scores, exact[order], rtol=1e-6)
        assert np.all(np.diff(scores) <= 0)
        assert np.all(exact[order] >= kth - 1e-6)  # nothing below the count-th best...
        assert set(np.flatnonzero(exact > kth + 1e-6)) <= set(
            order.tolist()
        )  # ...and nothing better left out


def test_rows_this_process_adds_join_the_held_index_without_a_rebuild(open_store: OpenStore) -> None:
    store = open_store(min_rows=1)
    add(store, ALICE, 120, seed=1)
    results(store, ALICE, seed=2)  # holds the index
    rebuilt_from_rows = []
    store._opened_person = lambda *a: rebuilt_from_rows.append(a)  # must not be needed again
    for seed in range(3, 8):
        add(store, ALICE, 3, seed=seed)
    assert len(store.held_indexes._held[ALICE].ids) == 135
    found = results(store, ALICE, seed=9)
    assert rebuilt_from_rows == []
    assert found == results(open_store(min_rows=10**9), ALICE, seed=9)


def test_the_write_that_takes_a_held_person_below_the_threshold_is_still_seen(open_store: OpenStore) -> None:
    reader, writer = open_store(min_rows=5), open_store(min_rows=5)
    ids = add(writer, ALICE, 5, seed=21)
    probe = unit(np.random.default_rng(22))
    assert len(reader.search("", probe, top_k=10, filters={"user_id": ALICE})) == 5
    assert reader.held_indexes.holds(ALICE)
    writer.delete(ids[0])  # five rows before, four after: the version still changes...
    assert {hit.id for hit in reader.search("", probe, top_k=10, filters={"user_id": ALICE})} == set(ids[1:])
    # ...so a later write, by someone now below the threshold, is not hidden behind the held index
    writer.update(ids[1], vector=probe, payload={"user_id": ALICE, "data": "zebra crossing"})
    assert [hit.id for hit in reader.keyword_search("zebra", filters={"user_id": ALICE})] == [ids[1]]
    assert [hit.id for hit in reader.search("", probe, top_k=1, filters={"user_id": ALICE})] == [ids[1]]
    (again,) = add(writer, ALICE, 1, seed=23)  # back to five
    assert again in {hit.id for hit in reader.search("", probe, top_k=10, filters={"user_id": ALICE})}


def test_a_light_persons_writes_leave_no_version(tmp_path: Path) -> None:
    keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())
    store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring=keyring)
    ids = add(store, ALICE, 3, seed=31)
    store.delete(ids[0])
    assert store._query(f"SELECT count(*) FROM {store._versions}") == [(0,)]  # nobody can hold them
    store.close()

"""Keyword (BM25) search scores from the statistics sealed into each row, and ranks exactly as BM25
over the memories' text does: with and without filters beyond the owner, and for rows sealed before
rows carried statistics."""

import json
from pathlib import Path

import numpy as np
import pytest

from core.memory.crypto import Keyring, MasterKey
from core.memory.crypto.key_table import SQLiteKeyTable
from core.memory.crypto.sealed import open_row, quantize, terms_of
from core.memory.stores.bm25 import bm25
from core.memory.stores.sqlite import SQLiteVectorStore

DIMS = 8
WORDS = ["tea", "coffee", "Tea", "green", "café", "naïve", "run", "running", "ran", "zoo", "ZOO", "pie", "42"]


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=DIMS)
    return (vector / np.linalg.norm(vector)).tolist()


def texts(count: int) -> list[str]:
    rng = np.random.default_rng(3)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)))) for _ in range(count)]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteVectorStore:
    keyring = Keyring(SQLiteKeyTable(tmp_path / "keys.sqlite3"), MasterKey.generate())
    store = SQLiteVectorStore("memories", str(tmp_path / "store.sqlite3"), DIMS, keyring=keyring)
    payloads = [
        {"user_id": "alice", "data": text, "text_lemmatized": text, "n": i % 3}
        for i, text in enumerate(texts(120))
    ]
    ids = [f"a{i:03}" for i in range(len(payloads))]
    store.insert([unit(i) for i in range(len(payloads))], payloads, ids)
    store.insert([unit(999)], [{"user_id": "bob", "data": "tea tea tea"}], ["b1"])
    return store


def reference(store: SQLiteVectorStore, query: str, top_k: int, **where: object) -> list[tuple[str, float]]:
    """BM25 over the text of alice's rows that match ``where``, in the order the store holds them."""
    rows = store.list(filters={"user_id": "alice"})[0]
    docs = [(row.id, row.payload) for row in rows if all(row.payload.get(k) == v for k, v in where.items())]
    docs.sort(key=lambda doc: doc[0])
    return [(id_, score) for id_, score, _ in bm25(query, docs)[:top_k]]


def same_ranking(hits: list, expected: list[tuple[str, float]]) -> bool:
    """Same scores in the same order; rows of equal score (identical texts: the last bits of a float
    sum depend on the order it is added in) may come in either order, so they are compared as sets."""
    assert [hit.score for hit in hits] == pytest.approx([score for _, score in expected], rel=1e-12)

    def tiers(pairs: list[tuple[str, float]]) -> list[tuple[float, frozenset[str]]]:
        grouped: dict[float, set[str]] = {}
        for id_, score in pairs:
            grouped.setdefault(round(score, 9), set()).add(id_)
        return [(score, frozenset(ids)) for score, ids in grouped.items()]

    found = tiers([(hit.id, hit.score) for hit in hits])
    wanted = tiers(expected)
    if len(hits) == len(expected) and len(expected) < 60:
        return found == wanted
    return found[:-1] == wanted[:-1]  # a cut at top_k may split the last tier differently


@pytest.mark.parametrize("query", ["tea", "green TEA café", "naïve zoo 42", "running", "nothing-here", ""])
def test_scores_and_order_equal_bm25_over_the_text(store: SQLiteVectorStore, query: str) -> None:
    hits = store.keyword_search(query, top_k=60, filters={"user_id": "alice"})
    assert same_ranking(hits, reference(store, query, 60))
    assert all(hit.payload["user_id"] == "alice" and "data" in hit.payload for hit in hits)


def test_a_filter_beyond_the_owner_narrows_the_rows_scored(store: SQLiteVectorStore) -> None:
    hits = store.keyword_search("tea green", top_k=10, filters={"user_id": "alice", "n": 1})
    assert hits and same_ranking(hits, reference(store, "tea green", 10, n=1))
    assert all(hit.payload["n"] == 1 for hit in hits)


def test_top_k_and_other_people_rows(store: SQLiteVectorStore) -> None:
    assert len(store.keyword_search("tea", top_k=3, filters={"user_id": "alice"})) == 3
    assert store.keyword_search("tea", top_k=0, filters={"user_id": "alice"}) == []
    assert [hit.id for hit in store.keyword_search("tea", filters={"user_id": "bob"})] == ["b1"]
    assert store.keyword_search("tea", filters={"user_id": "carol"}) == []


def test_statistics_are_inside_the_ciphertext(store: SQLiteVectorStore) -> None:
    (user, key_id, created_at, sealed), *_ = store._query(
        f"SELECT user_id, key_id, created_at, sealed FROM {store._table} WHERE id = 'a000'"
    )
    key = store.keyring.current(user)
    assert key is not None and key.key_id == key_id
    assert terms_of(open_row(key, "memories", "a000", created_at, sealed), DIMS) is not None
    for word in ("tea", "coffee", "green"):
        assert word.encode() not in sealed


def test_a_row_sealed_without_statistics_is_scored_from_its_text(store: SQLiteVectorStore) -> None:
    key = store.keyring.for_write("alice")
    payload = {"user_id": "alice", "data": "green tea every morning"}
    plaintext = bytes([0]) + quantize(unit(5), DIMS) + json.dumps(payload).encode()
    aad = f"cubby row v1\0memories\0alice\0a999\0{key.key_id}\0".encode()
    store._db.execute(
        f"INSERT INTO {store._table} (user_id, id, key_id, created_at, sealed) VALUES (?, ?, ?, NULL, ?)",
        ("alice", "a999", key.key_id, key.seal(plaintext, aad)),
    )
    hits = store.keyword_search("morning", filters={"user_id": "alice"})
    assert [hit.id for hit in hits] == ["a999"] and hits[0].payload["data"] == payload["data"]
    found = store.keyword_search("green tea morning", top_k=60, filters={"user_id": "alice"})
    assert same_ranking(found, reference(store, "green tea morning", 60))


@pytest.mark.parametrize("query", ["tea", "green TEA café", "naïve zoo 42", "ran run", "nothing-here"])
def test_a_person_with_few_rows_scores_the_same(store: SQLiteVectorStore, query: str) -> None:
    """A dozen rows are scored in plain Python rather than numpy: the same BM25, to the last bits."""
    few = texts(12)
    store.insert(
        [unit(500 + i) for i in range(len(few))],
        [{"user_id": "dave", "data": text} for text in few],
        [f"d{i:02}" for i in range(len(few))],
    )
    rows = store.list(filters={"user_id": "dave"})[0]
    docs = sorted(((row.id, row.payload) for row in rows), key=lambda doc: doc[0])
    expected = [(id_, score) for id_, score, _ in bm25(query, docs)]
    hits = store.keyword_search(query, top_k=12, filters={"user_id": "dave"})
    assert same_ranking(hits, expected)

"""Reading one person's sealed rows, shared by the embedded and the PostgreSQL store: both fetch the
rows of exactly one user under their current key, open them here, and score them in numpy."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

import numpy as np

from core.memory.crypto.keyring import PersonKey
from core.memory.crypto.sealed import (
    has_terms,
    open_rows_of,
    payload_of,
    payloads_of,
    searchable_text,
    vector_of,
)
from core.memory.stores.bm25 import bm25_scores
from core.memory.words import term_block

Opened = tuple[str, str | None, bytes]  # id, created_at, plaintext
Predicate = Callable[[Mapping[str, Any]], bool]
Built = TypeVar("Built")


@dataclass(slots=True)
class StoredVector:
    """A row as mem0 expects it back: ``.id``, ``.score`` (higher is closer) and ``.payload``."""

    id: str
    score: float | None
    payload: dict[str, Any] = field(default_factory=dict)


class OneRead:
    """A person's opened rows, held for the length of one read that needs them several times.

    One search through mem0 reads the same person's rows twice - vector similarity, then keyword
    scoring - and opening every row is most of a heavy person's search. Inside :meth:`scope` (entered
    by the backend around one mem0 call, in its thread) the rows are opened once and reused; at the
    scope's end they are dropped. Nothing outlives the call, so no state is shared between calls,
    threads or people, and a forget never has a cached copy to chase."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def scope(self) -> Iterator[None]:
        self._local.held = {}
        try:
            yield
        finally:
            self._local.held = None

    def held(self, user: str) -> tuple[PersonKey | None, list[Opened]] | None:
        held = getattr(self._local, "held", None)
        return None if held is None else held.get(user)

    def hold(self, user: str, key: PersonKey | None, rows: list[Opened]) -> None:
        held = getattr(self._local, "held", None)
        if held is not None:
            held[user] = (key, rows)


def open_rows(key: PersonKey, collection: str, rows: list[tuple[Any, str | None, bytes]]) -> list[Opened]:
    return open_rows_of(key, collection, rows)


def payload(key: PersonKey, dims: int, row: Opened) -> dict[str, Any]:
    return payload_of(row[2], dims, key.user, row[1])


def ranked(
    key: PersonKey, rows: list[Opened], query: Any, dims: int, top_k: int, predicate: Predicate
) -> list[StoredVector]:
    """The ``top_k`` rows closest to ``query`` by cosine that pass ``predicate``, best first."""
    probe = np.asarray(query, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(probe))
    if probe.shape[0] != dims or not math.isfinite(norm) or norm == 0.0:
        raise ValueError(f"query vectors must have {dims} finite, non-zero components")
    if not rows or top_k <= 0:
        return []
    matrix = np.frombuffer(b"".join(vector_of(row[2], dims) for row in rows), dtype=np.int8)
    matrix = matrix.reshape(len(rows), dims).astype(np.float32)
    scores = (matrix @ (probe / norm)) / np.linalg.norm(matrix, axis=1)
    hits: list[StoredVector] = []
    # Payloads are parsed best-first and only until top_k rows pass every filter.
    for index in np.argsort(-scores, kind="stable"):
        doc = payload(key, dims, rows[index])
        if predicate(doc):
            hits.append(StoredVector(rows[index][0], float(scores[index]), doc))
            if len(hits) == top_k:
                break
    return hits


#: Rows whose bodies one ``json.loads`` decodes: big enough to cost a few calls, small enough for
#: the block's payloads to be gone before the collector moves them to an older generation.
_DECODED_TOGETHER = 256
_created_then_id = itemgetter(1, 0)


def matching(
    key: PersonKey, rows: list[Opened], dims: int, predicate: Predicate | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, payload)`` of the rows that pass ``predicate``, in their order. None is a filter that
    names only the owner, whose rows these all are: nothing to test. Decoded a block of rows at a
    time, so a caller that keeps less than the payloads never holds a heavy person's every payload
    at once (which would cost a full collection of the whole process's heap every call or two)."""
    for at in range(0, len(rows), _DECODED_TOGETHER):
        block = rows[at : at + _DECODED_TOGETHER]
        for row, doc in zip(block, payloads_of(block, dims, key.user), strict=True):
            if predicate is None or predicate(doc):
                yield row[0], doc


def in_order(key: PersonKey, rows: list[Opened], dims: int) -> list[Opened]:
    """``rows`` ordered by ``created_at`` as text, then id: by the clear ``created_at``, before
    anything is decoded. A row without one (none, or one that is not text and so stayed inside the
    ciphertext) sorts by the text of what its payload holds there, or as empty text; those rows are
    rare, and with one among them every payload is decoded for its sort key."""
    if all(type(row[1]) is str for row in rows):
        return sorted(rows, key=_created_then_id)
    created = {id_: str(doc.get("created_at", "")) for id_, doc in matching(key, rows, dims, None)}
    return sorted(rows, key=lambda row: (created[row[0]], row[0]))


def oldest_first(
    key: PersonKey, rows: list[Opened], dims: int, predicate: Predicate | None, top_k: int | None
) -> list[StoredVector]:
    """The first ``top_k`` (None: all) rows that pass ``predicate``, oldest first (:func:`in_order`).
    Without a predicate only the rows returned are decoded."""
    limit = len(rows) if top_k is None else max(int(top_k), 0)
    ordered = in_order(key, rows, dims)
    chosen = matching(key, ordered if predicate is not None else ordered[:limit], dims, predicate)
    return [StoredVector(id_, None, doc) for id_, doc in islice(chosen, limit)]


def oldest_built(
    key: PersonKey, rows: list[Opened], dims: int, build: Callable[[str, dict[str, Any]], Built | None]
) -> list[Built]:
    """Every row, oldest first (:func:`in_order`), as ``build`` makes it from its id and payload;
    a row it makes None of is left out. What ``build`` does not keep of a payload is let go as the
    listing goes."""
    built = (build(id_, doc) for id_, doc in matching(key, in_order(key, rows, dims), dims, None))
    return [item for item in built if item is not None]


def keyword_ranked(
    key: PersonKey, rows: list[Opened], dims: int, query: str, top_k: int, predicate: Predicate | None
) -> list[StoredVector]:
    """The ``top_k`` rows best by BM25 for ``query``, best first, zero scores left out. Scored from
    the statistics sealed in each row; payloads are parsed only for the hits, or for every row when
    ``predicate`` (a filter beyond the owner, None if there is none) must decide which rows count."""
    if top_k <= 0 or not rows:
        return []
    docs: list[dict[str, Any] | None] = [None] * len(rows)
    if predicate is not None:
        parsed = [payload(key, dims, row) for row in rows]
        kept = [i for i, doc in enumerate(parsed) if predicate(doc)]
        rows, docs = [rows[i] for i in kept], [parsed[i] for i in kept]
    texts = [_with_terms(key, dims, row, doc) for row, doc in zip(rows, docs, strict=True)]
    scores = bm25_scores(query, texts, 1 + dims)
    best = [int(i) for i in np.argsort(-scores, kind="stable")[:top_k] if scores[i] > 0]
    hits = []
    for i in best:
        doc = docs[i]
        found = payload(key, dims, rows[i]) if doc is None else doc
        hits.append(StoredVector(rows[i][0], float(scores[i]), found))
    return hits


def _with_terms(key: PersonKey, dims: int, row: Opened, doc: dict[str, Any] | None) -> bytes:
    """The row's plaintext, which holds its statistics right after the vector; for a row sealed
    before rows carried statistics, the same layout computed from its text."""
    if has_terms(row[2]):
        return row[2]
    text = searchable_text(doc if doc is not None else payload(key, dims, row))
    return row[2][: 1 + dims] + term_block(text)

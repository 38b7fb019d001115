"""Reading one person's sealed rows, shared by the embedded and the PostgreSQL store: both fetch the
rows of exactly one user under their current key, open them here, and score them in numpy."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

import numpy as np

from core.memory.crypto.keyring import Keyring, PersonKey
from core.memory.crypto.sealed import open_rows_of, payloads_of
from core.memory.stores.filters import beyond_the_user, compile_filter, scoped_user
from core.memory.stores.person_index import Scoring, best_first, scoring_of

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
    """What a read opened of a person, held for the length of one read that needs it several times.

    One search through mem0 reads the same person's rows twice - vector similarity, then keyword
    scoring - and opening them is most of a heavy person's search. Inside :meth:`scope` (entered
    by the backend around one mem0 call, in its thread) each thing is opened once and reused; at
    the scope's end it is dropped. Nothing outlives the call, so no state is shared between calls,
    threads or people, and a forget never has an opened copy to chase."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def scope(self) -> Iterator[None]:
        self._local.held = {}
        try:
            yield
        finally:
            self._local.held = None

    def held(self, name: tuple[str, str]) -> Any:
        """What was held under ``name`` (a kind and a user) in this scope, or None."""
        held = getattr(self._local, "held", None)
        return None if held is None else held.get(name)

    def hold(self, name: tuple[str, str], value: Any) -> None:
        held = getattr(self._local, "held", None)
        if held is not None:
            held[name] = value


class LandedRows:
    """The payloads of the rows this thread's inserts landed, within one scope (one mem0 add, entered
    by the backend): the add's records are made from them instead of reading each row back. A row
    the forget barrier dropped is not among them. Nothing outlives the scope."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def scope(self) -> Iterator[dict[str, dict[str, Any]]]:
        landed: dict[str, dict[str, Any]] = {}
        self._local.landed = landed
        try:
            yield landed
        finally:
            self._local.landed = None

    def note(self, ids: Sequence[str], payloads: Sequence[dict[str, Any]], landed: set[str]) -> None:
        """``payloads`` (by ``ids``) were inserted; those whose id is in ``landed`` are stored."""
        held: dict[str, dict[str, Any]] | None = getattr(self._local, "landed", None)
        if held is not None:
            held.update((id_, payload) for id_, payload in zip(ids, payloads, strict=True) if id_ in landed)


def open_rows(key: PersonKey, collection: str, rows: list[tuple[Any, str | None, bytes]]) -> list[Opened]:
    return open_rows_of(key, collection, rows)


@dataclass(slots=True)
class PersonRows:
    """One person's rows for one read: their scoring arrays, and their payloads - from the rows
    opened for this read, or fetched by id (``fetch``) when the scoring came from a held index."""

    key: PersonKey
    scoring: Scoring
    dims: int
    opened: list[Opened] | None
    fetch: Callable[[PersonKey, list[str]], list[Opened]]

    def payloads(self, indices: Sequence[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(index, payload)`` of those of the rows at ``indices`` that exist, in that order (a row
        deleted since the scoring was built is left out)."""
        if self.opened is not None:
            rows = [self.opened[i] for i in indices]
            yield from zip(indices, payloads_of(rows, self.dims, self.key.user), strict=True)
            return
        found = {row[0]: row for row in self.fetch(self.key, [self.scoring.ids[i] for i in indices])}
        kept = [i for i in indices if self.scoring.ids[i] in found]
        rows = [found[self.scoring.ids[i]] for i in kept]
        yield from zip(kept, payloads_of(rows, self.dims, self.key.user), strict=True)


def ranked(person: PersonRows, query: Any, top_k: int, predicate: Predicate) -> list[StoredVector]:
    """The ``top_k`` rows closest to ``query`` by cosine that pass ``predicate``, best first.
    Payloads are read best-first and only until ``top_k`` rows pass every filter."""
    dims = person.dims
    probe = np.asarray(query, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(probe))
    if probe.shape[0] != dims or not math.isfinite(norm) or norm == 0.0:
        raise ValueError(f"query vectors must have {dims} finite, non-zero components")
    if not len(person.scoring) or top_k <= 0:
        return []
    unit_probe = probe / norm
    hits: list[StoredVector] = []
    looked, count = 0, top_k
    while looked < len(person.scoring):
        order, scores = person.scoring.nearest(unit_probe, looked + count)
        score_of = dict(zip(order[looked:].tolist(), scores[looked:].tolist(), strict=True))
        for index, doc in person.payloads(list(score_of)):
            if predicate(doc):
                hits.append(StoredVector(person.scoring.ids[index], score_of[index], doc))
                if len(hits) == top_k:
                    return hits
        looked, count = len(order), count * 4
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
    person: PersonRows, query: str, top_k: int, predicate: Predicate | None
) -> list[StoredVector]:
    """The ``top_k`` rows best by BM25 for ``query``, best first, zero scores left out. Scored from
    the statistics sealed in each row; payloads are parsed only for the hits, or for every row when
    ``predicate`` (a filter beyond the owner, None if there is none) must decide which rows count -
    which needs the rows opened for this read (``person.opened``)."""
    if top_k <= 0 or not len(person.scoring):
        return []
    if predicate is not None:
        if person.opened is None:
            raise ValueError("a keyword search narrowed by a filter needs the rows opened")
        parsed = payloads_of(person.opened, person.dims, person.key.user)
        kept = [row for row, doc in zip(person.opened, parsed, strict=True) if predicate(doc)]
        person = PersonRows(
            person.key, scoring_of(person.key, person.dims, kept), person.dims, kept, person.fetch
        )
    scores = person.scoring.bm25(query)
    best = [int(i) for i in best_first(scores, top_k) if scores[i] > 0]
    return [StoredVector(person.scoring.ids[i], float(scores[i]), doc) for i, doc in person.payloads(best)]


class SealedReads:
    """The reads both stores make the same way, over their ``_user_rows`` (a person's rows opened)
    and ``_person`` (their rows for scoring: a held index, or the rows opened)."""

    embedding_model_dims: int

    @property
    def keyring(self) -> Keyring:
        raise NotImplementedError

    def _user_rows(self, filters: Mapping[str, Any] | None) -> tuple[PersonKey | None, list[Opened], Any]:
        raise NotImplementedError

    def _person(self, user: str) -> PersonRows | None:
        raise NotImplementedError

    def _rows_by_id(self, key: PersonKey, ids: list[str]) -> list[Opened]:
        raise NotImplementedError

    def search(
        self, query: str, vectors: Any, top_k: int | None = 5, filters: Mapping[str, Any] | None = None
    ) -> list[StoredVector]:
        """The one user's rows closest to ``vectors`` that pass ``filters``, best first."""
        user = scoped_user(filters)
        predicate = compile_filter(filters)
        person = self._person(user)
        return [] if person is None else ranked(person, vectors, int(top_k or 0), predicate)

    def search_batch(
        self, queries: list[str], vectors_list: list[Any], top_k: int = 1, filters: Mapping | None = None
    ) -> list[list[StoredVector]]:
        return [self.search(q, v, top_k, filters) for q, v in zip(queries, vectors_list, strict=True)]

    def keyword_search(
        self, query: str, top_k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> list[StoredVector]:
        """Okapi BM25 over the one user's rows that pass ``filters`` (no shared full-text index)."""
        if beyond_the_user(filters):
            key, rows, predicate = self._user_rows(filters)
            if key is None:
                return []
            dims = self.embedding_model_dims
            person = PersonRows(key, scoring_of(key, dims, rows), dims, rows, self._rows_by_id)
            return keyword_ranked(person, query, int(top_k or 0), predicate)
        found = self._person(scoped_user(filters))
        return [] if found is None else keyword_ranked(found, query, int(top_k or 0), None)

    def listed_page(
        self,
        user_id: str,
        page: int,
        size: int,
        now: str,
        build: Callable[[str, dict[str, Any]], Built | None],
    ) -> tuple[list[Built], int, int] | None:
        """Page ``page`` (from 1, moved into the pages there are) of ``size`` of the rows of
        ``user_id`` whose clear expiry is after ``now`` (an ``expiry_text``), oldest first as
        :func:`in_order` has it, as ``build`` makes them; with how many such rows there are and the
        page it is. Ordered and counted in the database on the clear ``created_at``, so only the
        page's rows are fetched and opened. None when a row has no clear ``created_at`` (its order
        is inside its ciphertext): the caller then lists everything."""
        key = self.keyring.current(user_id)
        if key is None:
            return [], 0, 1
        counted = self._live_count(key, now)
        if counted is None:
            return None
        page = min(max(1, page), max(1, math.ceil(counted / size)))
        rows = self._live_page(key, now, (page - 1) * size, size)
        docs = payloads_of(rows, self.embedding_model_dims, key.user)
        built = (build(row[0], doc) for row, doc in zip(rows, docs, strict=True))
        return [item for item in built if item is not None], counted, page

    def _live_count(self, key: PersonKey, now: str) -> int | None:
        """How many of the person's rows under ``key`` expire after ``now`` (or never); None if
        one of them has no clear ``created_at``."""
        raise NotImplementedError

    def _live_page(self, key: PersonKey, now: str, offset: int, limit: int) -> list[Opened]:
        """Those rows, ordered by ``created_at`` then id as text, ``limit`` from ``offset``, opened."""
        raise NotImplementedError

    def listed(self, user_id: str, build: Callable[[str, dict[str, Any]], Built | None]) -> list[Built]:
        """Every row of ``user_id``, oldest first, as ``build`` makes it (see ``oldest_built``)."""
        key, rows, _ = self._user_rows({"user_id": user_id})
        return [] if key is None else oldest_built(key, rows, self.embedding_model_dims, build)

"""What scoring one person's memories needs, as arrays - and, for people with many memories, kept
between searches, sealed under that person's own key.

A search scores a person's rows by cosine and by keyword (BM25). Opening every sealed row for that
costs time in proportion to how many memories the person holds: at 50,000 memories about 150 ms of
fetching and AES-GCM opening on every search, for results of which only the top few are shown. So a
:class:`Scoring` holds just what scoring needs - the int8 vectors, their norms, the word counts and
the words as postings (hash, row, count; sorted by hash, so a query term is a binary search) - and
for a person with at least :data:`MIN_ROWS` rows each process keeps it between searches
(:class:`HeldIndexes`). A search then opens one ciphertext and reads the payloads of only the rows it
returns.

Held sealed, even in memory: the arrays are one AES-256-GCM ciphertext under the person's key, and
only ids and ``created_at`` (in clear in the table anyway) are kept beside it. Every search reads the
person's current key afresh from the key table, so a forget - in this process or any other - makes
every held index of that person unreadable at once, by destroying the one key; nothing has to reach
other processes to chase a cached copy. No text is held in any form except 32-bit word hashes, and
nothing of it is written to disk.

Freshness: each store keeps one random version per person, replaced in the same transaction as any
write of that person's rows (:meth:`SQLiteVectorStore._bump_versions`,
:meth:`PostgresVectorStore._bump_versions`). A held index is used only while the person's key and
version are the ones it was built at; otherwise it is rebuilt from the rows.
"""

from __future__ import annotations

import math
import secrets
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.memory.crypto.keyring import NONCE_BYTES, PersonKey
from core.memory.crypto.sealed import has_terms, payload_of, searchable_text
from core.memory.stores.bm25 import BM25_B, BM25_K1, entries
from core.memory.words import query_hashes, term_block, term_hash, words

#: People with fewer rows are scored from their rows on every call: opening a few hundred rows
#: costs about as much as opening a held index, and holding nothing for them keeps memory small.
#: The embedded store also versions only people with this many rows (or who had them before a
#: delete), so every process on one store must hold from the same number.
MIN_ROWS = 256
#: What one process holds at most, in sealed bytes (about 500 bytes per memory).
BUDGET_BYTES = 256 * 1024 * 1024
#: A held index not used for this long is dropped.
IDLE_SECONDS = 600.0

Opened = tuple[str, str | None, bytes]  # id, created_at, plaintext
Bags = list[tuple[int, dict[int, int]]]  # per row: its word count, {word hash: count}

_HEADER = np.dtype([("rows", "<u8"), ("entries", "<u8")])
#: Up to this many rows, every row is scored in float32 (the integer pass saves nothing).
_EXACT_UP_TO = 4096
#: Up to this many rows, keyword scores are computed in plain Python from each row's word counts:
#: for a few rows numpy's cost per call is more than the arithmetic.
_PYTHON_UP_TO = 64
#: Slack for float32 rounding in the bound of :meth:`Scoring.nearest`.
_ROUNDING = 1e-5
_EVERY_ROW = slice(None)

#: Word counts per row, then every (row, distinct word) entry sorted by word hash: hash, row, count.
Postings = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Scoring:
    """One person's rows ready to score: row ``i`` is ``ids[i]``.

    Built from opened rows for one call (:func:`scoring_of`; the postings only when a keyword
    search asks for them), or opened from a held index (:meth:`from_bytes`: views, no copies)."""

    def __init__(
        self,
        ids: list[str],
        created: list[str | None],
        vectors: np.ndarray,  # int8, (rows, dims)
        inverse_norms: np.ndarray,  # float32, (rows,)
        postings: Callable[[], Postings],
        floats: np.ndarray | None = None,  # the vectors as float32, when they were made anyway
        bags: Callable[[], Bags] | None = None,  # for a few rows: their word counts, for bm25
    ) -> None:
        self.ids = ids
        self.created = created
        self.vectors = vectors
        self.inverse_norms = inverse_norms
        self._postings = postings
        self._floats = floats
        self._built: Postings | None = None
        self._bags = bags

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def postings(self) -> Postings:
        if self._built is None:
            self._built = self._postings()
        return self._built

    def cosine(self, unit_probe: np.ndarray, rows: np.ndarray | slice = _EVERY_ROW) -> np.ndarray:
        """Cosine similarity of ``rows`` (all by default) to ``unit_probe`` (a unit float32 vector)."""
        floats = self._floats[rows] if self._floats is not None else self.vectors[rows].astype(np.float32)
        return (floats @ unit_probe) * self.inverse_norms[rows]

    def nearest(self, unit_probe: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` rows most similar to ``unit_probe`` and their cosines, best first, ties in
        row order - exactly what scoring every row in float32 and sorting gives.

        Converting every int8 row to float32 costs most of a heavy person's search, so the rows are
        first scored in integers against the probe rounded to int8 (``q``, with ``probe = q * step +
        error``). For a row ``v`` that score is off from its cosine by ``|v . error| / |v|``, at most
        ``|error|``: every row that can be among the ``count`` best scores within ``2 |error|`` of
        the ``count``-th best integer score, and only those are scored exactly."""
        if count >= len(self) or len(self) <= _EXACT_UP_TO:
            scores = self.cosine(unit_probe)
            order = best_first(scores, count)
            return order, scores[order]
        step = float(np.max(np.abs(unit_probe))) / 127.0
        rounded = np.round(unit_probe / step)
        error = float(np.linalg.norm(unit_probe - rounded * step))
        dots = np.einsum("ij,j->i", self.vectors, rounded.astype(np.int16), dtype=np.int32)
        approximate = dots * (self.inverse_norms * step)
        kth = np.partition(approximate, approximate.size - count)[approximate.size - count]
        candidates = np.flatnonzero(approximate >= kth - 2 * error - _ROUNDING)
        exact = self.cosine(unit_probe, candidates)
        order = best_first(exact, count)
        return candidates[order], exact[order]

    def bm25(self, query: str) -> np.ndarray:
        """Okapi BM25 of ``query`` for every row: the figures of :func:`core.memory.stores.bm25.bm25`
        over the rows' text, from the postings of only the query's words."""
        if self._bags is not None:
            return _bm25_of_bags(query, self._bags())
        scores = np.zeros(len(self), dtype=np.float64)
        terms = query_hashes(query)
        if not terms.size or not len(self):
            return scores
        lengths, hashes, rows, counts = self.postings
        starts = np.searchsorted(hashes, terms, side="left")
        frequency = np.searchsorted(hashes, terms, side="right") - starts
        found = int(frequency.sum())
        if not found:
            return scores
        term = np.repeat(np.arange(terms.size), frequency)
        at = np.repeat(starts - (np.cumsum(frequency) - frequency), frequency) + np.arange(found)
        row, tf = rows[at], counts[at].astype(np.float64)
        idf = np.log(1 + (len(self) - frequency + 0.5) / (frequency + 0.5))
        words = lengths.astype(np.float64)
        average_length = float(words.sum()) / len(self) or 1.0
        norm = BM25_K1 * (1 - BM25_B + BM25_B * words[row] / average_length)
        contribution = idf[term] * tf * (BM25_K1 + 1) / (tf + norm)
        return np.bincount(row, weights=contribution, minlength=len(self))

    def extended(self, more: Scoring) -> Scoring:
        """These rows followed by ``more``: the postings of ``more`` are merged in at their place,
        not sorted again."""
        lengths, hashes, rows, counts = self.postings
        more_lengths, more_hashes, more_rows, more_counts = more.postings
        at = np.searchsorted(hashes, more_hashes, side="right")
        postings = (
            np.concatenate([lengths, more_lengths]),
            np.insert(hashes, at, more_hashes),
            np.insert(rows, at, more_rows + len(self)),
            np.insert(counts, at, more_counts),
        )
        return Scoring(
            self.ids + more.ids,
            self.created + more.created,
            np.concatenate([self.vectors, more.vectors]),
            np.concatenate([self.inverse_norms, more.inverse_norms]),
            lambda: postings,
        )

    # -- the sealed form -------------------------------------------------------------------------
    def arrays_bytes(self) -> bytes:
        lengths, hashes, rows, counts = self.postings
        header = np.array([(len(self), hashes.size)], dtype=_HEADER).tobytes()
        parts = (self.vectors, self.inverse_norms, lengths, hashes, rows, counts)
        return header + b"".join(np.ascontiguousarray(part).tobytes() for part in parts)

    @classmethod
    def from_bytes(cls, ids: list[str], created: list[str | None], dims: int, data: bytes) -> Scoring:
        """The arrays of :meth:`arrays_bytes` as views of ``data`` (no copies)."""
        header = np.frombuffer(data, dtype=_HEADER, count=1)[0]
        rows, found = int(header["rows"]), int(header["entries"])
        at = _HEADER.itemsize
        arrays = []
        for dtype, count in (
            (np.int8, rows * dims),
            (np.float32, rows),
            (np.uint32, rows),
            (np.uint32, found),
            (np.int32, found),
            (np.uint16, found),
        ):
            arrays.append(np.frombuffer(data, dtype=dtype, count=count, offset=at))
            at += arrays[-1].nbytes
        vectors, inverse_norms, *postings = arrays
        lengths, hashes, row, counts = postings
        return cls(
            ids, created, vectors.reshape(rows, dims), inverse_norms, lambda: (lengths, hashes, row, counts)
        )


def best_first(scores: np.ndarray, count: int) -> np.ndarray:
    """The indices of the ``count`` highest ``scores``, best first, ties in index order: the first
    ``count`` of a stable sort, without sorting all of them."""
    if count >= scores.size or scores.size <= _EXACT_UP_TO:
        return np.argsort(-scores, kind="stable")[:count]
    kth = np.partition(-scores, count - 1)[count - 1]
    candidates = np.flatnonzero(-scores <= kth)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:count]


def scoring_of(key: PersonKey, dims: int, opened: list[Opened]) -> Scoring:
    """The scoring arrays of opened rows."""
    vectors = np.frombuffer(b"".join(plaintext[1 : 1 + dims] for _, _, plaintext in opened), dtype=np.int8)
    vectors = vectors.reshape(len(opened), dims)
    floats = vectors.astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", floats, floats))
    return Scoring(
        [row_id for row_id, _, _ in opened],
        [created_at for _, created_at, _ in opened],
        vectors,
        (1.0 / norms).astype(np.float32),
        lambda: _postings(key, dims, opened),
        # Kept for this read only (a held index keeps the int8 vectors alone).
        floats if len(opened) <= _EXACT_UP_TO else None,
        (lambda: _bags(key, dims, opened)) if len(opened) <= _PYTHON_UP_TO else None,
    )


def _bags(key: PersonKey, dims: int, opened: list[Opened]) -> Bags:
    """Each row's word count and ``{word hash: count}``, read from its statistics block (or, for a
    row sealed before rows carried one, computed from its text)."""
    bags = []
    for _, created_at, plaintext in opened:
        block, at = plaintext, 1 + dims
        if not has_terms(plaintext):
            block, at = term_block(searchable_text(payload_of(plaintext, dims, key.user, created_at))), 0
        length, distinct = struct.unpack_from("<II", block, at)
        hashes = struct.unpack_from(f"<{distinct}I", block, at + 8)
        counts = struct.unpack_from(f"<{distinct}H", block, at + 8 + 4 * distinct)
        bags.append((length, dict(zip(hashes, counts, strict=True))))
    return bags


def _bm25_of_bags(query: str, bags: Bags) -> np.ndarray:
    """:meth:`Scoring.bm25` for a few rows, in plain Python: the same terms, the same formula in the
    same order of operations, so the same scores."""
    scores = np.zeros(len(bags), dtype=np.float64)
    terms = sorted({term_hash(word) for word in words(query)})
    if not terms or not bags:
        return scores
    rows = len(bags)
    frequency = [sum(1 for _, bag in bags if term in bag) for term in terms]
    idf = [math.log(1 + (rows - found + 0.5) / (found + 0.5)) for found in frequency]
    average_length = sum(length for length, _ in bags) / rows or 1.0
    for row, (length, bag) in enumerate(bags):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / average_length)
        total = 0.0
        for term, weight in zip(terms, idf, strict=True):
            tf = bag.get(term)
            if tf:
                total += weight * tf * (BM25_K1 + 1) / (tf + norm)
        scores[row] = total
    return scores


def _postings(key: PersonKey, dims: int, opened: list[Opened]) -> Postings:
    """Word counts per row and the (hash, row, count) entries sorted by hash. A row sealed before
    rows carried keyword statistics gets them computed from its text."""
    texts = []
    for _, created_at, plaintext in opened:
        if has_terms(plaintext):
            texts.append(plaintext)
        else:
            text = searchable_text(payload_of(plaintext, dims, key.user, created_at))
            texts.append(plaintext[: 1 + dims] + term_block(text))
    lengths, row, hashes, counts = entries(texts, 1 + dims)
    order = np.argsort(hashes, kind="stable")
    return lengths.astype(np.uint32), hashes[order], row[order].astype(np.int32), counts[order]


@dataclass(slots=True)
class _Held:
    key_id: int
    version: object
    ids: list[str]
    created: list[str | None]
    sealed: bytes
    used_at: float


def _aad(collection: str, key: PersonKey, version: object) -> bytes:
    return f"cubby index v1\0{collection}\0{key.user}\0{key.key_id}\0{version!r}".encode()


class HeldIndexes:
    """The sealed :class:`Scoring` of people with many rows, one per person, in this process.

    Nobody's use moves anyone else's index out: an index stays until it is idle for
    ``idle_seconds``, is replaced, or its person is forgotten; when ``budget_bytes`` is reached, new
    ones are simply not kept until room is freed."""

    def __init__(
        self,
        collection: str,
        dims: int,
        min_rows: int | None = None,
        budget_bytes: int = BUDGET_BYTES,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.collection = collection
        self.dims = dims
        self.min_rows = MIN_ROWS if min_rows is None else min_rows
        self.budget_bytes = budget_bytes
        self.idle_seconds = idle_seconds
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def open(self, key: PersonKey, version: object) -> Scoring | None:
        """The person's held index if it was built under ``key`` at ``version``, opened."""
        now = time.monotonic()
        with self._lock:
            self._drop_idle(now)
            held = self._held.get(key.user)
            if held is None:
                return None
            if held.key_id != key.key_id or held.version != version:
                del self._held[key.user]
                return None
            held.used_at = now
        plaintext = key.aead.decrypt(
            held.sealed[:NONCE_BYTES], held.sealed[NONCE_BYTES:], _aad(self.collection, key, version)
        )
        return Scoring.from_bytes(held.ids, held.created, self.dims, plaintext)

    def keep(self, key: PersonKey, version: object, scoring: Scoring) -> None:
        """Hold ``scoring`` (built from the rows at ``version``) if the person has enough rows and
        there is room."""
        if len(scoring) < self.min_rows:
            return
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + key.aead.encrypt(nonce, scoring.arrays_bytes(), _aad(self.collection, key, version))
        now = time.monotonic()
        with self._lock:
            self._drop_idle(now)
            self._held.pop(key.user, None)
            if self._bytes() + len(sealed) > self.budget_bytes:
                return
            self._held[key.user] = _Held(key.key_id, version, scoring.ids, scoring.created, sealed, now)

    def extend(self, key: PersonKey, before: object, after: object, added: list[Opened]) -> None:
        """This process added ``added`` rows of the person, moving their version from ``before`` to
        ``after``: their held index (if it was current at ``before``) with those rows, instead of
        a rebuild from every row at the next search."""
        held = self.open(key, before)
        if held is not None:
            self.keep(key, after, held.extended(scoring_of(key, self.dims, added)))

    def drop(self, user: str) -> None:
        with self._lock:
            self._held.pop(user, None)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def held_bytes(self) -> int:
        with self._lock:
            return self._bytes()

    def _bytes(self) -> int:
        return sum(len(held.sealed) for held in self._held.values())

    def holds(self, user: str) -> bool:
        with self._lock:
            return user in self._held

    def _drop_idle(self, now: float) -> None:
        for user in [u for u, held in self._held.items() if now - held.used_at > self.idle_seconds]:
            del self._held[user]

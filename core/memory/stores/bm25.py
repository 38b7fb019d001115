"""Keyword relevance over one person's memories: Okapi BM25, the signal mem0 blends into its search.

Computed over the rows of the one user being searched, never over a shared index, so nobody's words
shape anyone else's ranking and nothing outlives an erased row. Both stores score from the statistics
sealed into each row (:meth:`core.memory.stores.person_index.Scoring.bm25`, numpy, no text parsed);
:func:`bm25` over payloads is the reference it must agree with.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from core.memory.words import COUNT, HASH, words

BM25_K1 = 1.2
BM25_B = 0.75
_HEADER_BYTES = 8


def bm25(query: str, documents: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, float, dict[str, Any]]]:
    """Okapi BM25 of ``query`` over ``documents`` (id, payload), best first, zero scores left out."""
    terms = set(words(query))
    bags = [
        (id_, payload, Counter(words(payload.get("text_lemmatized") or payload.get("data"))))
        for id_, payload in documents
    ]
    if not terms or not bags:
        return []
    average_length = sum(sum(bag.values()) for _, _, bag in bags) / len(bags) or 1.0
    frequency = {term: sum(1 for _, _, bag in bags if term in bag) for term in terms}
    scored = []
    for id_, payload, bag in bags:
        length = sum(bag.values())
        score = 0.0
        for term in terms:
            tf = bag.get(term, 0)
            if tf:
                idf = math.log(1 + (len(bags) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += (
                    idf
                    * tf
                    * (BM25_K1 + 1)
                    / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / average_length))
                )
        if score > 0:
            scored.append((id_, score, payload))
    scored.sort(key=lambda hit: hit[1], reverse=True)
    return scored


def entries(texts: list[bytes], at: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word counts per row, and for every (row, distinct word) entry: its row, hash and count. Each
    of ``texts`` holds its statistics block at offset ``at`` (anything may follow it)."""
    rows = len(texts)
    heads = np.frombuffer(b"".join(text[at : at + _HEADER_BYTES] for text in texts), dtype="<u4")
    lengths, distinct = heads[0::2].astype(np.float64), heads[1::2].astype(np.int64)
    tail = np.frombuffer(b"".join(text[at + _HEADER_BYTES :] for text in texts), dtype=np.uint8)
    sizes = np.fromiter((len(text) for text in texts), dtype=np.int64, count=rows) - (at + _HEADER_BYTES)
    starts = np.cumsum(sizes) - sizes
    row = np.repeat(np.arange(rows), distinct)
    nth = np.arange(int(distinct.sum())) - np.repeat(np.cumsum(distinct) - distinct, distinct)
    at_hash = starts[row] + HASH.itemsize * nth
    at_count = starts[row] + HASH.itemsize * distinct[row] + COUNT.itemsize * nth
    hashes = tail[at_hash[:, None] + np.arange(HASH.itemsize)].view(HASH).reshape(-1)
    counts = tail[at_count[:, None] + np.arange(COUNT.itemsize)].view(COUNT).reshape(-1)
    return lengths, row, hashes, counts

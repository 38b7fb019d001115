"""Keyword relevance over one person's memories: Okapi BM25, the signal mem0 blends into its search.

Computed over the rows of the one user being searched, never over a shared index, so nobody's words
shape anyone else's ranking and nothing outlives an erased row. Both the embedded store and the
PostgreSQL store use it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)
_BM25_K1 = 1.2
_BM25_B = 0.75


def _words(text: object) -> list[str]:
    return _WORD.findall(text.casefold()) if isinstance(text, str) else []


def bm25(query: str, documents: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, float, dict[str, Any]]]:
    """Okapi BM25 of ``query`` over ``documents`` (id, payload), best first, zero scores left out."""
    terms = set(_words(query))
    bags = [
        (id_, payload, Counter(_words(payload.get("text_lemmatized") or payload.get("data"))))
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
                    * (_BM25_K1 + 1)
                    / (tf + _BM25_K1 * (1 - _BM25_B + _BM25_B * length / average_length))
                )
        if score > 0:
            scored.append((id_, score, payload))
    scored.sort(key=lambda hit: hit[1], reverse=True)
    return scored

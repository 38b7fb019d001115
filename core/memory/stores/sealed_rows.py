"""Reading one person's sealed rows, shared by the embedded and the PostgreSQL store: both fetch the
rows of exactly one user under their current key, open them here, and score them in numpy."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.memory.crypto.keyring import PersonKey
from core.memory.crypto.sealed import open_rows_of, payload_of, vector_of

Opened = tuple[str, str | None, bytes]  # id, created_at, plaintext
Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(slots=True)
class StoredVector:
    """A row as mem0 expects it back: ``.id``, ``.score`` (higher is closer) and ``.payload``."""

    id: str
    score: float | None
    payload: dict[str, Any] = field(default_factory=dict)


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


def matching(key: PersonKey, rows: list[Opened], dims: int, predicate: Predicate) -> list[tuple[str, dict]]:
    docs = ((row[0], payload(key, dims, row)) for row in rows)
    return [(id_, doc) for id_, doc in docs if predicate(doc)]


def oldest_first(found: list[tuple[str, dict]], top_k: int | None) -> list[StoredVector]:
    listed = [StoredVector(id_, None, doc) for id_, doc in found]
    listed.sort(key=lambda row: (str(row.payload.get("created_at", "")), row.id))
    return listed[: len(listed) if top_k is None else max(int(top_k), 0)]

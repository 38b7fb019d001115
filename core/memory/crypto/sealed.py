"""The at-rest form of one stored row: compact, and sealed with its person's key.

In clear, only what indexing needs: the user key, the row id, its key id and ``created_at``. Everything
else - the vector, the memory text, its hash, entity names and links, source metadata - is one
AES-256-GCM ciphertext. The associated data binds the collection, the user key, the id, the key id and
``created_at``, so a sealed row opens only in its own place, as its owner's, and its clear columns
cannot be swapped.

The plaintext is one flags byte, the vector as int8 (scaled so its largest component is +-127; the
stores score by cosine, which the scale does not change), the keyword statistics of the memory's
text (:func:`core.memory.words.term_block`; rows sealed before there were statistics have none and
are scored from their text), then the payload as compact JSON without
the fields that are stored in clear or that repeat another field (mem0's ``text_lemmatized`` is its
``data`` unless spaCy is installed; ``updated_at`` is ``created_at`` until a row changes). A typical
memory takes about 700 bytes on disk, against about 2,200 as float32 and full JSON.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from core.memory.crypto.keyring import NONCE_BYTES, PersonKey
from core.memory.words import block_size, term_block

_SAME_UPDATED = 1
_SAME_LEMMATIZED = 2
_SAME_SOURCE_AT = 4
_HAS_TERMS = 8


def _aad(collection: str, user: str, row_id: str, key_id: int, created_at: str | None) -> bytes:
    return f"cubby row v1\0{collection}\0{user}\0{row_id}\0{key_id}\0{created_at or ''}".encode()


def quantize(vector: object, dims: int) -> bytes:
    """``vector`` as int8 bytes with the same direction. Refuses wrong sizes, non-finite or zero."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dims or not np.all(np.isfinite(array)):
        raise ValueError(f"vectors must have {dims} finite components")
    largest = float(np.max(np.abs(array)))
    if largest == 0.0:
        raise ValueError("a stored vector cannot be all zeros")
    return np.round(array * (127.0 / largest)).astype(np.int8).tobytes()


def _compact(payload: dict[str, Any]) -> tuple[int, str | None, dict[str, Any]]:
    doc = dict(payload)
    doc.pop("user_id", None)
    created = doc.pop("created_at", None)
    created_at = created if isinstance(created, str) else None
    if created is not None and created_at is None:
        doc["created_at"] = created  # not a string: kept as it is, inside the ciphertext
    flags = 0
    if created_at is not None and doc.get("updated_at") == created_at:
        flags |= _SAME_UPDATED
        del doc["updated_at"]
    if "text_lemmatized" in doc and doc["text_lemmatized"] == doc.get("data"):
        flags |= _SAME_LEMMATIZED
        del doc["text_lemmatized"]
    source = doc.get("source")
    if created_at is not None and isinstance(source, dict) and source.get("at") == created_at:
        flags |= _SAME_SOURCE_AT
        doc["source"] = {k: v for k, v in source.items() if k != "at"}
    return flags, created_at, doc


def seal_row(
    key: PersonKey, collection: str, row_id: str, int8_vector: bytes, payload: dict[str, Any]
) -> tuple[str | None, bytes]:
    """``(created_at, sealed)`` for a row of ``key``'s person."""
    flags, created_at, doc = _compact(payload)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    terms = term_block(searchable_text(payload))
    plaintext = bytes([flags | _HAS_TERMS]) + int8_vector + terms + body
    return created_at, key.seal(plaintext, _aad(collection, key.user, row_id, key.key_id, created_at))


def open_row(key: PersonKey, collection: str, row_id: str, created_at: str | None, sealed: bytes) -> bytes:
    """The plaintext of a sealed row (``cryptography.exceptions.InvalidTag`` if it is not this
    person's row in this place)."""
    return key.open(sealed, _aad(collection, key.user, row_id, key.key_id, created_at))


def open_rows_of(
    key: PersonKey, collection: str, rows: list[tuple[Any, str | None, bytes]]
) -> list[tuple[str, str | None, bytes]]:
    """:func:`open_row` of many rows of one person: the same associated data, built with the
    per-person part once (opening every row is most of a heavy person's search)."""
    decrypt = key.aead.decrypt
    head, tail = f"cubby row v1\0{collection}\0{key.user}\0", f"\0{key.key_id}\0"
    opened = []
    for row_id, created_at, sealed in rows:
        text_id = str(row_id)
        aad = (head + text_id + tail + (created_at or "")).encode()
        blob = bytes(sealed)
        opened.append((text_id, created_at, decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)))
    return opened


def searchable_text(payload: dict[str, Any]) -> object:
    """The text keyword search scores: mem0's lemmatized text, else the memory itself."""
    return payload.get("text_lemmatized") or payload.get("data")


def vector_of(plaintext: bytes, dims: int) -> bytes:
    return plaintext[1 : 1 + dims]


def has_terms(plaintext: bytes) -> bool:
    return bool(plaintext[0] & _HAS_TERMS)


def terms_of(plaintext: bytes, dims: int) -> bytes | None:
    """The row's keyword statistics block, or None for a row sealed without one."""
    if not plaintext[0] & _HAS_TERMS:
        return None
    return plaintext[1 + dims : 1 + dims + block_size(plaintext, 1 + dims)]


def _body_start(plaintext: bytes, dims: int) -> int:
    at = 1 + dims
    return at + block_size(plaintext, at) if plaintext[0] & _HAS_TERMS else at


def payload_of(plaintext: bytes, dims: int, user: str, created_at: str | None) -> dict[str, Any]:
    """mem0's payload of the row, as it was given to the store."""
    doc: dict[str, Any] = json.loads(plaintext[_body_start(plaintext, dims) :])
    return _restored(doc, plaintext[0], user, created_at)


def payloads_of(rows: list[tuple[str, str | None, bytes]], dims: int, user: str) -> list[dict[str, Any]]:
    """:func:`payload_of` of many opened rows ``(id, created_at, plaintext)`` of one person, in their
    order. The bodies are compact JSON objects, so joined with commas they are one JSON array: one
    ``json.loads`` decodes them all, at a third of the cost of decoding them one by one."""
    if not rows:
        return []
    bodies = b",".join([plaintext[_body_start(plaintext, dims) :] for _, _, plaintext in rows])
    docs: list[dict[str, Any]] = json.loads(b"[" + bodies + b"]")
    return [
        _restored(doc, plaintext[0], user, created_at)
        for doc, (_, created_at, plaintext) in zip(docs, rows, strict=True)
    ]


def _restored(doc: dict[str, Any], flags: int, user: str, created_at: str | None) -> dict[str, Any]:
    """The fields :func:`seal_row` kept in clear or left out as repeats, put back into ``doc``."""
    doc["user_id"] = user
    if created_at is not None:
        doc["created_at"] = created_at
        if flags & _SAME_UPDATED:
            doc["updated_at"] = created_at
        if flags & _SAME_SOURCE_AT and isinstance(doc.get("source"), dict):
            doc["source"]["at"] = created_at  # ``doc`` was just decoded: no one else holds it
    if flags & _SAME_LEMMATIZED:
        doc["text_lemmatized"] = doc.get("data")
    return doc

"""The words of a memory as keyword (BM25) search counts them, and their compact per-row statistics.

A row's statistics are computed once, when it is sealed, and kept inside its ciphertext: the number
of words, then each distinct word as a 32-bit hash with its count. A search then scores a person's
rows with numpy over these arrays instead of parsing and splitting every memory's text on every call.
Hashing a word (CRC-32 of its UTF-8) can only make two different words count as one when they
collide, about one chance in four billion per pair of words; the row's text is never needed to score.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_HEADER = np.dtype([("length", "<u4"), ("distinct", "<u4")])
HASH = np.dtype("<u4")
COUNT = np.dtype("<u2")


def words(text: object) -> list[str]:
    """The casefolded words of ``text`` (nothing if it is not a string)."""
    return _WORD.findall(text.casefold()) if isinstance(text, str) else []


def term_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def query_hashes(query: str) -> np.ndarray:
    """The distinct hashes of the words of ``query``, sorted."""
    return np.unique(np.fromiter((term_hash(w) for w in set(words(query))), dtype=HASH))


def term_block(text: object) -> bytes:
    """The statistics block of a row whose searchable text is ``text``: header (word count, distinct
    words), the distinct words' hashes, then their counts (clamped to 65,535)."""
    bag = Counter(term_hash(word) for word in words(text))
    distinct = len(bag)
    counts = (min(count, 65_535) for count in bag.values())
    return struct.pack(f"<II{distinct}I{distinct}H", sum(bag.values()), distinct, *bag.keys(), *counts)


def block_size(plaintext: bytes, at: int) -> int:
    """The size of the statistics block that starts at ``at`` in ``plaintext``."""
    distinct = int.from_bytes(plaintext[at + 4 : at + 8], "little")
    return _HEADER.itemsize + distinct * (HASH.itemsize + COUNT.itemsize)


def read_block(block: bytes) -> tuple[int, bytes, bytes]:
    """(word count, hashes, counts) of a statistics block."""
    length = int.from_bytes(block[0:4], "little")
    distinct = int.from_bytes(block[4:8], "little")
    end = _HEADER.itemsize + distinct * HASH.itemsize
    return length, block[_HEADER.itemsize : end], block[end : end + distinct * COUNT.itemsize]

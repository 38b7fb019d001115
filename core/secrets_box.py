"""Sealing small secrets (Slack bot tokens) before they are written to a shared store.

:class:`SecretBox` is the whole interface the rest of Cubby relies on: ``seal`` and ``open`` bytes,
bound to a ``context`` (the record's name), so a sealed value copied onto another record does not
open. :func:`open_box` is the one place that decides where the key comes from, so pointing it at a
keyring later changes nothing else:

- ``CUBBY_MASTER_KEY`` when set. Workers on different machines must share it, or an installation
  saved by one cannot be read by the others;
- otherwise ``<data dir>/secrets.key``: 32 random bytes, created once (mode 0600) by whichever
  process gets there first, and shared by every worker on that data dir.

The AES-256-GCM key is derived from either with HKDF-SHA256 under a purpose label, so the same master
key can serve other purposes without their ciphertexts being interchangeable.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import ConfigError, Settings

KEY_FILE_NAME = "secrets.key"
_FORMAT = b"\x01"  # first byte of every sealed value: AES-256-GCM, 12-byte nonce
_NONCE_BYTES = 12
_PURPOSE = b"cubby shared state v1"


class SecretBox(Protocol):
    def seal(self, plaintext: bytes, *, context: bytes) -> bytes: ...

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        """The plaintext; raises :class:`ValueError` if ``sealed`` was not sealed with this key and
        ``context`` (or was altered)."""
        ...


class AesGcmBox:
    """AES-256-GCM with a random nonce per value; the context is authenticated, not stored."""

    def __init__(self, master_key: bytes, *, purpose: bytes = _PURPOSE) -> None:
        if len(master_key) < 16:
            raise ConfigError("the master key must be at least 16 bytes")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)
        self._aead = AESGCM(derived)

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _FORMAT:
            raise ValueError("not a sealed value")
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[1 + _NONCE_BYTES :], context)
        except Exception:  # cryptography's InvalidTag: wrong key, wrong context or altered bytes
            raise ValueError("the sealed value does not open with this key") from None


def key_file(data_dir: Path) -> bytes:
    """The data dir's key, created on first use. Written to a temporary file and then linked into
    place, so a process racing another never reads a half-written key."""
    path = data_dir / KEY_FILE_NAME
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != 32:
        raise ConfigError(f"{path} is not a Cubby key file (expected 32 bytes); restore it or remove it")
    return key


def open_box(settings: Settings) -> SecretBox:
    master = settings.master_key
    if master is not None:
        return AesGcmBox(master.get_secret_value().encode("utf-8"))
    return AesGcmBox(key_file(settings.data_dir))

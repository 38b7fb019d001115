"""Per-person data keys: what makes a forget final for every copy of a person's memories.

Every row Cubby stores about a person is sealed with that person's own AES-256-GCM key
(:mod:`core.memory.crypto.sealed`). The key exists only wrapped by the master key, in a key table
apart from the memories. ``destroy`` deletes it: from then on every copy of the rows anywhere - WAL
frames, freed pages, dead tuples, replicas, backups, SSD blocks - is ciphertext under a key that no
longer exists.

The forget barrier. A forget is a point in time for its person; nothing that began before it may land
after it. Two checks make that hold on every store and across processes:
- a write captures the person's key when it begins (:meth:`Keyring.pinned`, per thread) and the store
  checks, inside its write transaction, that this very key still exists (:meth:`Keyring.alive`).
  A forget deletes the key first and the rows after, and the row delete waits for any write that
  passed the check, so such a write is erased with the rest; a write that checks later finds no key
  and lands nothing;
- a write that was requested before a forget but only starts after it (say, an extraction queued
  behind another) would find a fresh key. So a forget leaves a tombstone - when it happened, under an
  HMAC of the user key, so it names no one - and a write that began earlier is dropped
  (:meth:`Keyring.forgotten_since`). Tombstones are pruned after a day; no write waits that long.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.memory.crypto.key_table import KeyTable, WrappedRow
from core.memory.crypto.master import MasterKey

NONCE_BYTES = 12
# The metadata key under which the hub passes when an add was asked for (a ``time.time()``); the
# backends take it out before anything is stored.
BEGAN_AT = "_cubby_began_at"
TOMBSTONE_DAYS = 1.0
TOMBSTONE_OWNER = "#tombstones"  # no user key starts with "#" (see core.keys)


class KeyUnavailable(RuntimeError):
    """A wrapped key could not be unwrapped: the configured master key is not the one that wrapped it."""


@dataclass(frozen=True, slots=True)
class PersonKey:
    user: str
    key_id: int
    aead: AESGCM

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        return self.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


@dataclass(frozen=True, slots=True)
class WriteStart:
    """See :meth:`Keyring.before_write`."""

    forgotten: bool
    flush_pending: bool
    key: PersonKey | None


def _wrap_aad(user: str, key_id: int) -> bytes:
    return f"cubby person key\0{user}\0{key_id}".encode()


class Keyring:
    def __init__(self, table: KeyTable, master: MasterKey) -> None:
        self._held_master: tuple[MasterKey, AESGCM] | None = None
        self.table = table
        self.master = master
        self._pins = threading.local()
        self.created = 0
        self.destroyed = 0
        # The HMAC key of tombstones is kept like a person's key, so rotation re-wraps it too.
        self._tombstone_secret = self._unwrap_secret(self._ensure_row(TOMBSTONE_OWNER), master)

    # -- wrapping --------------------------------------------------------------------------------
    def _wrap(self, master: MasterKey, user: str, key_id: int, secret: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(master.secret).encrypt(nonce, secret, _wrap_aad(user, key_id))

    def _master_aead(self, master: MasterKey) -> AESGCM:
        """The cipher of ``master``, made once rather than on every unwrap (every read of a person
        unwraps their key; the master secret is held by this keyring either way)."""
        held = self._held_master
        if held is None or held[0] is not master:
            held = self._held_master = (master, AESGCM(master.secret))
        return held[1]

    def _unwrap_secret(self, row: WrappedRow, master: MasterKey) -> bytes:
        user, key_id, fingerprint, wrapped = row
        if fingerprint != master.fingerprint:
            raise KeyUnavailable(
                f"person keys are wrapped by master key {fingerprint}, but {master.fingerprint} is "
                "configured (CUBBY_MASTER_KEY / CUBBY_MASTER_KEY_FILE)"
            )
        try:
            aead = self._master_aead(master)
            return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(user, key_id))
        except InvalidTag:
            raise KeyUnavailable("a wrapped person key failed authentication") from None

    def _unwrap(self, row: WrappedRow) -> PersonKey:
        return PersonKey(row[0], row[1], AESGCM(self._unwrap_secret(row, self.master)))

    def _new_row(self, user: str) -> WrappedRow:
        key_id = secrets.randbits(62) + 1
        secret = AESGCM.generate_key(bit_length=256)
        return (user, key_id, self.master.fingerprint, self._wrap(self.master, user, key_id, secret))

    def _ensure_row(self, user: str) -> WrappedRow:
        row = self.table.get(user)
        if row is None:
            new = self._new_row(user)
            row = self.table.insert_if_absent(new)
            self.created += row[1] == new[1] and user != TOMBSTONE_OWNER
        return row

    # -- person keys -----------------------------------------------------------------------------
    def current(self, user: str) -> PersonKey | None:
        """The person's key, or None if they have none (never stored anything, or were forgotten)."""
        row = self.table.get(user)
        return None if row is None else self._unwrap(row)

    def key_id(self, user: str) -> int | None:
        """The id of the person's current key, without unwrapping it (for counting their rows)."""
        row = self.table.get(user)
        return None if row is None else row[1]

    def unwrap(self, row: WrappedRow) -> PersonKey:
        """The person key of a key-table row a store read together with its own rows."""
        return self._unwrap(row)

    def ensure(self, user: str) -> PersonKey:
        return self._unwrap(self._ensure_row(user))

    def ensure_many(self, users: list[str]) -> None:
        """Create keys for those of ``users`` who have none, in one transaction (bulk loading)."""
        missing = [user for user in dict.fromkeys(users) if self.table.get(user) is None]
        self.table.insert_many_if_absent([self._new_row(user) for user in missing])
        self.created += len(missing)

    def for_write(self, user: str) -> PersonKey:
        """The key a write on this thread must seal with: the one pinned when the write began, or
        else the person's current key (created if they have none)."""
        pinned: dict[str, PersonKey] = getattr(self._pins, "keys", {})
        return pinned.get(user) or self.ensure(user)

    @contextmanager
    def pinned(self, user: str, key: PersonKey) -> Iterator[None]:
        """Within this block, this thread's writes for ``user`` seal with ``key`` - and land only if
        ``key`` still exists when they commit."""
        pins: dict[str, PersonKey] = self._pins.__dict__.setdefault("keys", {})
        previous = pins.get(user)
        pins[user] = key
        try:
            yield
        finally:
            if previous is None:
                pins.pop(user, None)
            else:
                pins[user] = previous

    def alive(self, key: PersonKey) -> bool:
        """Whether ``key`` is still its person's key. Stores call this inside their write."""
        return self.table.alive(key.user, key.key_id)

    # -- forgetting ------------------------------------------------------------------------------
    def _tag(self, user: str) -> bytes:
        return hmac.new(self._tombstone_secret, user.encode(), hashlib.sha256).digest()

    def destroy(self, user: str) -> bool:
        """Forget ``user``'s key (and leave the tombstone the barrier needs). True if they had one."""
        now = time.time()
        self.table.add_tombstone(self._tag(user), now, prune_before=now - TOMBSTONE_DAYS * 86400)
        removed = self.table.delete(user)
        self.destroyed += removed
        return removed

    def before_write(self, user: str, began: float | None) -> WriteStart:
        """What a write of ``user`` that began at ``began`` (a ``time.time()``; None: no barrier)
        needs to know, from one read of the key table: whether they were forgotten since (then the
        write is dropped, and no key is made), whether an erasure flush is pending, and their key
        (created if they have none)."""
        at, pending, row = self.table.before_write(user, self._tag(user))
        if began is not None and at is not None and at >= began:
            return WriteStart(True, pending, None)
        return WriteStart(False, pending, self._unwrap(row) if row is not None else self.ensure(user))

    def forgotten_since(self, user: str, began: float) -> bool:
        """Whether ``user`` was forgotten at or after ``began`` (a ``time.time()``)."""
        at = self.table.tombstone(self._tag(user))
        return at is not None and at >= began

    # -- the master key --------------------------------------------------------------------------
    def rotate(self, new_master: MasterKey) -> int:
        """Re-wrap every person key under ``new_master`` in one transaction, without touching a row
        of memories. Returns how many keys were re-wrapped. Resumable: keys already under the new
        master are left as they are."""
        rewrapped = []
        for row in self.table.all_rows():
            if row[2] == new_master.fingerprint:
                continue
            secret = self._unwrap_secret(row, self.master)
            rewrapped.append(
                (row[0], row[1], new_master.fingerprint, self._wrap(new_master, row[0], row[1], secret))
            )
        self.table.replace_all(rewrapped)
        self.master = new_master
        self.table.checkpoint()
        return sum(1 for row in rewrapped if row[0] != TOMBSTONE_OWNER)

    def close(self) -> None:
        self.table.close()

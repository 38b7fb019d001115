"""The master key: the one secret that wraps every person's data key.

Where it comes from, in order: ``CUBBY_MASTER_KEY`` (the key itself), ``CUBBY_MASTER_KEY_FILE`` (a file
holding it), or - on the embedded backend only - ``<data dir>/master.key``, created 0600 on first run.
That last default keeps a one-machine install working with no setup, at a price the startup log says
out loud: whoever copies the whole data dir gets the key with the data. PostgreSQL has no default,
because every worker on every machine must unwrap the same keys.

A master key is any secret of at least 16 characters (the generated file holds 64 hex digits of 32
random bytes). Person keys are wrapped with a key derived from it by HKDF-SHA256 under a purpose
label of their own, so the same master key can seal other things (Slack installation tokens)
without any ciphertext of one purpose opening as another.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import ConfigError, Settings

log = logging.getLogger(__name__)

MIN_CHARACTERS = 16
DEFAULT_FILE = "master.key"
_PURPOSE = b"cubby person keys v1"


@dataclass(frozen=True, slots=True)
class MasterKey:
    """The configured secret, the AES-256 key that wraps person keys (``secret``, derived from it),
    and a short public fingerprint that says which master wrapped a key."""

    text: str = field(repr=False)
    secret: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.text) < MIN_CHARACTERS:
            raise ConfigError(f"a master key has at least {MIN_CHARACTERS} characters")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE)
        object.__setattr__(self, "secret", hkdf.derive(self.text.encode("utf-8")))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(b"cubby master key fingerprint\0" + self.secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey({self.fingerprint})"

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_hex(32))

    def encoded(self) -> str:
        return self.text


def parse_master_key(text: str, *, where: str) -> MasterKey:
    value = text.strip()
    if len(value) < MIN_CHARACTERS:
        raise ConfigError(f"{where} is not a master key: it needs at least {MIN_CHARACTERS} characters")
    return MasterKey(value)


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write ``key`` to ``path`` (0600), replacing any file there atomically."""
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key.encoded() + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def default_key_file(settings: Settings) -> Path:
    return settings.data_dir / DEFAULT_FILE


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key; on the embedded backend with none configured, the data dir's own
    key file (created on first run)."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.get_secret_value(), where="CUBBY_MASTER_KEY")
    if settings.master_key_file is not None:
        try:
            text = settings.master_key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read CUBBY_MASTER_KEY_FILE ({type(error).__name__})") from None
        return parse_master_key(text, where="CUBBY_MASTER_KEY_FILE")
    if settings.backend != "embedded":
        raise ConfigError(
            f"CUBBY_BACKEND={settings.backend} needs CUBBY_MASTER_KEY or CUBBY_MASTER_KEY_FILE "
            "(the same key on every worker)"
        )
    path = default_key_file(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_key_file(path, MasterKey.generate())
    log.warning(
        "the master key is kept in the data dir (%s): a stolen copy of the data dir is readable; "
        "set CUBBY_MASTER_KEY_FILE to a key kept elsewhere",
        path.name,
    )
    return parse_master_key(path.read_text(encoding="ascii"), where=str(path))

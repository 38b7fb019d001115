"""Rotating the master key: every person key is re-wrapped under a new master key in one
transaction; no memory row is read or rewritten, so it takes a moment at any data size.

Where the master key lives in a file (``CUBBY_MASTER_KEY_FILE``, or the data dir's own
``master.key``), the file is replaced too, crash-safely: the new key is written next to it as
``<file>.new`` first, then the keys are re-wrapped, then ``.new`` replaces the file. A process that
finds the keys wrapped under the ``.new`` key (a crash between the last two steps) finishes the
replacement when it opens the key store (:func:`finish_interrupted_rotation`). Where the key comes
from ``CUBBY_MASTER_KEY``, the new key is written to a file the operator names, and the operator
then swaps the setting.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.config import ConfigError, Settings
from core.memory.crypto.keyring import Keyring, KeyUnavailable
from core.memory.crypto.master import MasterKey, default_key_file, parse_master_key, write_key_file


def key_file_of(settings: Settings) -> Path | None:
    """The file the master key is read from, or None if it comes from ``CUBBY_MASTER_KEY``."""
    if settings.master_key is not None:
        return None
    return settings.master_key_file or default_key_file(settings)


def _pending(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def rotate(keyring: Keyring, settings: Settings, new_key_file: Path | None = None) -> tuple[int, Path]:
    """Re-wrap every person key under a fresh master key. Returns (keys re-wrapped, the file now
    holding the new master key)."""
    new = MasterKey.generate()
    current_file = key_file_of(settings)
    if current_file is None:
        if new_key_file is None:
            raise ConfigError("the master key comes from CUBBY_MASTER_KEY: name a file for the new one")
        if new_key_file.exists():
            raise ConfigError(f"{new_key_file} exists; name a new file")
        write_key_file(new_key_file, new)
        return keyring.rotate(new), new_key_file
    staged = _pending(current_file)
    write_key_file(staged, new)
    count = keyring.rotate(new)
    os.replace(staged, current_file)
    return count, current_file


def finish_interrupted_rotation(settings: Settings, error: KeyUnavailable) -> MasterKey:
    """The master key of a rotation that was interrupted after re-wrapping: installs it and returns
    it. Re-raises ``error`` if there is no such rotation to finish."""
    current_file = key_file_of(settings)
    staged = None if current_file is None else _pending(current_file)
    if current_file is None or staged is None or not staged.exists():
        raise error
    new = parse_master_key(staged.read_text(encoding="ascii"), where=str(staged))
    os.replace(staged, current_file)
    return new

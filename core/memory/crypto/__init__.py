"""Encryption at rest: the master key, per-person data keys, and the sealed row format."""

from core.memory.crypto.keyring import Keyring, KeyUnavailable, PersonKey
from core.memory.crypto.master import MasterKey, load_master_key

__all__ = ["KeyUnavailable", "Keyring", "MasterKey", "PersonKey", "load_master_key"]

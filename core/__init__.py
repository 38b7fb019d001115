"""Cubby's platform-neutral core. Adapters use only what is exported here."""

from core import commands, replies
from core.agent import Agent, AgentReply
from core.commands import ExportFile, ForgetPlan, Recalled
from core.config import ConfigError, Settings, load_settings
from core.errors import BackendUnavailable, CubbyError, InvalidInput, InvalidUserKey, MemoryFull
from core.keys import UserKey
from core.memory import EXPORT_FORMAT, Hub, ScopedMemory, open_hub
from core.memory.backends import rotate_master_key
from core.records import MemoryRecord, Source

__all__ = [
    "EXPORT_FORMAT",
    "Agent",
    "AgentReply",
    "BackendUnavailable",
    "ConfigError",
    "CubbyError",
    "ExportFile",
    "ForgetPlan",
    "Hub",
    "InvalidInput",
    "InvalidUserKey",
    "MemoryFull",
    "MemoryRecord",
    "Recalled",
    "ScopedMemory",
    "Settings",
    "Source",
    "UserKey",
    "commands",
    "load_settings",
    "open_hub",
    "replies",
    "rotate_master_key",
]

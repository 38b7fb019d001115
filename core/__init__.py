"""Cubby's platform-neutral core. Adapters use only what is exported here."""

from core import commands, durations, imports, logs, metrics, replies, saved_messages, storage, visibility
from core.agent import Agent, AgentReply
from core.commands import ExportFile, ForgetPlan, Recalled
from core.config import ConfigError, Settings, load_settings
from core.errors import BackendUnavailable, CubbyError, InvalidInput, InvalidUserKey, MemoryFull
from core.keys import UserKey
from core.memory import EXPORT_FORMAT, Erased, Hub, PostRef, ScopedMemory, open_hub, sweeper
from core.memory.backends import rotate_master_key
from core.memory.prefs import PersonSettings
from core.memory.reembed import Reembedded, reembed
from core.records import MemoryRecord, Source
from core.saved_messages import SeenMessage
from core.shared_state import SharedState, open_shared_state
from core.visibility import ReplyKind, may_be_public

__all__ = [
    "EXPORT_FORMAT",
    "Agent",
    "AgentReply",
    "BackendUnavailable",
    "ConfigError",
    "CubbyError",
    "Erased",
    "ExportFile",
    "ForgetPlan",
    "Hub",
    "InvalidInput",
    "InvalidUserKey",
    "MemoryFull",
    "MemoryRecord",
    "PersonSettings",
    "PostRef",
    "Recalled",
    "Reembedded",
    "ReplyKind",
    "ScopedMemory",
    "SeenMessage",
    "Settings",
    "SharedState",
    "Source",
    "UserKey",
    "commands",
    "durations",
    "imports",
    "load_settings",
    "logs",
    "may_be_public",
    "metrics",
    "open_hub",
    "open_shared_state",
    "reembed",
    "replies",
    "rotate_master_key",
    "saved_messages",
    "storage",
    "sweeper",
    "visibility",
]

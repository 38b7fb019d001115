"""The core's memory module: the only code that talks to mem0."""

from core.memory.hub import EXPORT_FORMAT, Hub, ScopedMemory, open_hub
from core.memory.posts import Erased, PostRef

__all__ = ["EXPORT_FORMAT", "Erased", "Hub", "PostRef", "ScopedMemory", "open_hub"]

"""The conversational agent: answers a person's message from that person's own memories.

It is handed one :class:`ScopedMemory` per reply and holds nothing else, so another person's text
cannot reach its answer. Without an LLM it shows the relevant memories and how to add more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Settings
from core.memory import ScopedMemory
from core.records import MemoryRecord, Source

NO_MEMORIES_HINT = "I don't remember anything about that yet. Tell me with /remember <text>."
MORE_HINT = "Tell me more with /remember <text>."


@dataclass(frozen=True, slots=True)
class AgentReply:
    """``text`` to send back. ``memories`` are the person's memories it draws on: a reply with any
    must only be shown to that person."""

    text: str
    memories: list[MemoryRecord] = field(default_factory=list)

    @property
    def reveals_memories(self) -> bool:
        return bool(self.memories)


class Agent:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def reply(self, memory: ScopedMemory, message: str, *, source: Source | None = None) -> AgentReply:
        """Answer ``message`` for the owner of ``memory``. Raises :class:`InvalidInput` on bad text."""
        relevant = await self._context(memory, message)
        return self._reply_without_llm(relevant)

    async def _context(self, memory: ScopedMemory, message: str) -> list[MemoryRecord]:
        limit = self.settings.context_max_memories
        if limit == 0:
            return []
        picked, used = [], 0
        for record in await memory.search(message[: self.settings.max_query_chars], limit=limit):
            if used + len(record.text) > self.settings.context_max_chars:
                break
            picked.append(record)
            used += len(record.text)
        return picked

    @staticmethod
    def _reply_without_llm(relevant: list[MemoryRecord]) -> AgentReply:
        if not relevant:
            return AgentReply(NO_MEMORIES_HINT)
        lines = "\n".join(f"- {record.text}" for record in relevant)
        return AgentReply(f"Here is what I remember that may help:\n{lines}\n{MORE_HINT}", relevant)

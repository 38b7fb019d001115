"""Fuzzing the terminal adapter: one :class:`bots.terminal.TerminalChat` per person, fed line after
line exactly as ``cubby chat`` feeds it (``handle`` for every line but ``/quit``), with fuzzed answers
to its confirmation prompts. Invalid UTF-8 arrives as Python's stdin would decode it on a POSIX
locale (surrogate escapes); a terminal line holds no newline."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.assurance.fuzz import Fuzz, FuzzInputs, over_json
from bench.assurance.judge import Answer
from bots.terminal import TerminalChat
from core import Agent, Hub, Settings, UserKey

LINE_KINDS = ("/remember", "/recall", "/forget", "/export", "/help", "/unknown", "plain text")


class TerminalDriver:
    name = "terminal"
    commands = LINE_KINDS

    def __init__(self) -> None:
        self._chats: dict[str, TerminalChat] = {}
        self._said: dict[str, list[str]] = {}
        self._answers: dict[str, FuzzInputs] = {}
        self._scratch = tempfile.TemporaryDirectory(prefix="cubby-assurance-export-")
        self._hub: Hub | None = None
        self._agent: Agent | None = None

    async def start(self, hub: Hub, settings: Settings) -> None:
        self._hub = hub
        self._agent = Agent(settings)

    def person(self, command: str, index: int) -> tuple[Any, UserKey]:
        name = f"fuzz-{command.strip('/').replace(' ', '-')}-{index}"
        return name, UserKey.cli(name)

    def received(self, command: str, fuzz: Fuzz) -> str:
        return over_json(fuzz).replace("\n", " ")

    def _line(self, command: str, text: str) -> str:
        if command == "plain text":
            return text if not text.lstrip().startswith("/") else text.lstrip().lstrip("/")
        if command == "/unknown":
            return f"/{text.split(' ')[0][:20] or 'x'}zz {text}"
        if command == "/export" and text.strip():
            # `/export <path>` writes where the person says: keep fuzzed paths inside the scratch.
            return f"{command} {self._scratch.name}/{text.strip()}"
        return f"{command} {text}"

    def _chat(self, name: str, inputs: FuzzInputs) -> TerminalChat:
        if name not in self._chats:
            assert self._hub is not None and self._agent is not None
            said = self._said.setdefault(name, [])

            async def ask(prompt: str) -> str:
                return self._answers[name].answer()

            memory = self._hub.scoped(UserKey.cli(name))
            export_dir = Path(self._scratch.name) / name
            self._chats[name] = TerminalChat(memory, ask, said.append, export_dir, self._agent)
        self._answers[name] = inputs
        return self._chats[name]

    async def send(self, person: Any, command: str, fuzz: Fuzz, inputs: FuzzInputs) -> Answer:
        chat = self._chat(person, inputs)
        said = self._said[person]
        said.clear()
        line = self._line(command, self.received(command, fuzz))
        if line.strip() in ("/quit", "/exit"):
            line = line.replace("/", "", 1)  # run() ends the session on these before handle() sees them
        await chat.handle(line)
        if not line.strip():
            said.append("> ")  # a blank line is answered by the next prompt, as in a shell
        # What the adapter received as the memory text: the argument after the command word.
        received = line.strip().partition(" ")[2] if command != "plain text" else line
        return Answer(texts=list(said), received=received)

    def fail_platform(self) -> None:
        """A terminal has no platform that could fail."""

    async def stop(self) -> None:
        if self._agent is not None:
            await self._agent.close()
        self._scratch.cleanup()

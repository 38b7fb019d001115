"""The terminal adapter: ``cubby chat`` (an interactive session) and ``cubby demo`` (the classic
two-person scenario, run through the real stack with no platform account)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from core import (
    Agent,
    CubbyError,
    InvalidInput,
    ScopedMemory,
    Settings,
    Source,
    UserKey,
    commands,
    imports,
    load_settings,
    logs,
    open_hub,
    replies,
    storage,
)

Ask = Callable[[str], Awaitable[str]]
Say = Callable[[str], None]


async def ask_stdin(prompt: str) -> str:
    """``input(prompt)`` without blocking the event loop (fact extractions finish meanwhile).

    It runs on a daemon thread of its own rather than the loop's executor: on Ctrl-C asyncio cancels
    the session at once, and a daemon thread still waiting for a line neither delays the exit nor
    takes the next line typed at the shell."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(line: str | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(line or "")

    def read() -> None:
        # Ctrl-C must reach the main thread: asyncio handles SIGINT there, and a signal taken by
        # this thread would leave the loop asleep until something else woke it.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            line, error = input(prompt), None
        except BaseException as failure:  # EOFError at end of input, mostly
            line, error = None, failure
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, line, error)

    threading.Thread(target=read, name="cubby-stdin", daemon=True).start()
    return await answer


def enable_line_editing() -> None:
    """Arrow keys, line editing and this session's history for ``input()`` in a terminal (stdlib
    readline). History stays in memory - a history file would keep memory text on disk - and is
    cleared when the person forgets everything."""
    if not sys.stdin.isatty():
        return
    with contextlib.suppress(ImportError):
        import readline

        readline.set_auto_history(True)


def clear_line_history() -> None:
    with contextlib.suppress(ImportError, AttributeError):
        import readline

        readline.clear_history()


@contextlib.contextmanager
def terminal_restored() -> Iterator[None]:
    """Put the terminal back as it was: Ctrl-C can land while readline has it in raw mode."""
    try:
        import termios

        saved = termios.tcgetattr(sys.stdin.fileno()) if sys.stdin.isatty() else None
    except (ImportError, OSError, ValueError):
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError, ValueError):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


@contextlib.contextmanager
def interrupt_ends_the_session() -> Iterator[None]:
    """Ctrl-C ends the session at once, whichever thread the signal lands on.

    The hub's worker threads can receive SIGINT as well as the main thread. With a plain Python
    handler (asyncio.run's own) the loop would then sleep on until something else woke it; asyncio's
    signal handling wakes it through its wakeup fd wherever the signal landed. The session's task is
    cancelled and the interruption leaves as KeyboardInterrupt, which ``cubby`` turns into exit 130."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no Unix signals
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


class TerminalChat:
    """One person's session. Lines starting with ``/`` are commands; any other line goes to the agent,
    which converses when an LLM is configured and otherwise shows the relevant memories. The agent
    defaults to one configured from the environment, like the rest of Cubby."""

    def __init__(
        self, memory: ScopedMemory, ask: Ask, say: Say, export_dir: Path, agent: Agent | None = None
    ) -> None:
        self.memory = memory
        self.ask = ask
        self.say = say
        self.export_dir = export_dir
        self.agent = agent or Agent(load_settings())
        self.source = Source("cli", "terminal")

    async def run(self) -> None:
        plain_lines = (
            "Anything else you type, I answer from what I remember."
            if self.agent.converses
            else "Anything else you type, I look up in what I remember."
        )
        self.say(f"Hi {self.memory.key.user_id}! {replies.help_text()}\n{plain_lines} Type /quit to leave.")
        while True:
            try:
                line = await self.ask("> ")
            except (EOFError, KeyboardInterrupt):
                self.say("")
                return
            except asyncio.CancelledError:  # Ctrl-C
                self.say("")
                raise
            if line.strip() in ("/quit", "/exit"):
                return
            await self.handle(line)

    async def handle(self, line: str) -> None:
        command, _, argument = line.strip().partition(" ")
        try:
            if not command:
                return
            if command == "/help":
                self.say(replies.help_text())
            elif command == "/remember":
                self.say(replies.remembered(await commands.remember(self.memory, argument, self.source)))
            elif command == "/recall":
                self.say(replies.recalled(await commands.recall(self.memory, argument or None)))
            elif command == "/edit":
                memory_id, _, text = argument.strip().partition(" ")
                self.say(replies.edited((await commands.edit(self.memory, memory_id, text)).record))
            elif command == "/forget":
                await self.forget(argument)
            elif command in ("/pause", "/resume"):
                self.say(replies.paused_status(await commands.set_paused(self.memory, command == "/pause")))
            elif command == "/status":
                settings = await self.memory.settings()
                self.say(replies.paused_status(settings) + " " + replies.default_expiry(settings))
            elif command == "/expiry":
                self.say(replies.default_expiry(await commands.set_default_expiry(self.memory, argument)))
            elif command == "/export":
                await self.export(argument.strip())
            elif command == "/import":
                content = _read_import(argument.strip())
                self.say(replies.imported(await commands.import_export(self.memory, content)))
            elif command.startswith("/"):
                shown = "".join(c if c.isprintable() else "?" for c in command[:40])
                self.say(f"I don't know {shown}. " + replies.help_text())
            else:
                self.say((await self.agent.reply(self.memory, line, source=self.source)).text)
        except CubbyError as error:
            self.say(replies.describe_error(error))

    async def forget(self, argument: str) -> None:
        plan = await commands.plan_forget(self.memory, argument)
        self.say(replies.forget_question(plan))
        if plan.kind == "nothing":
            return
        if plan.kind == "choose":
            answer = (await self.ask("Number to forget (Enter to cancel): ")).strip()
            if not (answer.isascii() and answer.isdigit()) or not 1 <= int(answer) <= len(plan.records):
                self.say(replies.FORGET_CANCELLED)
                return
            chosen = plan.records[int(answer) - 1]
            self.say(replies.forgotten(int(await commands.forget_one(self.memory, chosen.id))))
            return
        if (await self.ask("Type yes to confirm: ")).strip().lower() != "yes":
            self.say(replies.FORGET_CANCELLED)
        elif plan.kind == "everything":
            erased = await commands.forget_everything(self.memory)
            exports = storage.erase_exports(self.export_dir)
            clear_line_history()
            also = f" I also deleted {exports} export file(s) from {self.export_dir}." if exports else ""
            self.say(replies.forgotten(erased) + also)
        else:
            self.say(replies.forgotten(int(await commands.forget_one(self.memory, plan.records[0].id))))

    async def export(self, destination: str = "") -> None:
        """``/export`` writes into the person's export folder in the data dir (erased with them);
        ``/export PATH`` writes to that file, or into that folder. Always a new file, mode 600."""
        chosen = _export_destination(destination) if destination else None
        exported = await commands.export(self.memory)
        if chosen is not None:
            into_folder = chosen.is_dir() and not chosen.is_symlink()
            path = chosen / exported.filename if into_folder else chosen
        else:
            path = storage.private_dir(self.export_dir) / exported.filename
            for attempt in range(2, 100):
                if not os.path.lexists(path):
                    break
                path = self.export_dir / exported.filename.replace(".json", f"-{attempt}.json")
        storage.write_new_private_file(path, exported.content)
        self.say(f"Wrote {exported.count} memories to {path.absolute()} (only you can read it).")


def _read_import(text: str) -> bytes:
    """The bytes of the export file named in ``/import <path>``, refused before reading when it is
    over the import size limit."""
    if not text:
        raise InvalidInput("give the path of your export file, e.g. /import ~/cubby-memories.json")
    try:
        path = Path(text).expanduser()
        size = path.stat().st_size if path.is_file() else None
    except (OSError, ValueError, RuntimeError):  # NUL bytes, unencodable text, an unknown ~user
        raise InvalidInput("that file cannot be read") from None
    if size is None:
        raise InvalidInput("there is no file at that path")
    if size > imports.MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        return path.read_bytes()
    except OSError:
        raise InvalidInput("that file cannot be read") from None


def _export_destination(text: str) -> Path:
    """The path in ``/export <path>``: an existing folder, or a file name ending in ``.json`` (so a
    stray word after /export is a question, not a file)."""
    try:
        path = Path(text).expanduser()
        if path.is_dir() or path.suffix.lower() == ".json":
            return path
    except (OSError, ValueError, RuntimeError):  # NUL bytes, unencodable text, an unknown ~user
        raise InvalidInput("that is not a usable file name") from None
    raise InvalidInput("give a folder that exists or a file name ending in .json, e.g. /export ~/mine.json")


async def chat(settings: Settings, user: str) -> int:
    key = UserKey.cli(user)
    enable_line_editing()
    print(f"(data dir: {settings.data_dir.absolute()})")
    with terminal_restored(), interrupt_ends_the_session():
        async with open_hub(settings=settings) as hub:
            agent = Agent(settings)
            logs.cap_library_loggers()  # the LLM's HTTP clients log whole requests at DEBUG
            try:
                exports = storage.exports_dir(settings.data_dir, key)
                await TerminalChat(hub.scoped(key), ask_stdin, print, exports, agent).run()
            finally:
                await agent.close()  # lets the last fact extraction finish before the hub closes
    return 0


# -- demo ----------------------------------------------------------------------------------------
def _files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode("utf-8")
    return [p for p in sorted(root.rglob("*")) if p.is_file() and data in p.read_bytes()]


async def demo(settings: Settings, say: Say = print) -> int:
    """Run the scenario in a fresh ``demo`` folder of the data dir; 0 if every check held."""
    demo_dir = settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        say(f"    {'ok ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    alice_says, bob_says = "I am vegetarian", "I always want a window seat"
    try:
        async with open_hub(demo_dir, settings=settings) as hub:
            alice = hub.scoped(UserKey.cli("alice"))
            bob = hub.scoped(UserKey.cli("bob"))
            source = Source("cli", "demo")

            say("1. alice and bob each tell Cubby something")
            await commands.remember(alice, alice_says, source)
            await commands.remember(bob, bob_says, source)
            say(f"    alice: /remember {alice_says}\n    bob:   /remember {bob_says}")

            say('2. both search "food preferences"')
            found = {}
            for name, memory in (("alice", alice), ("bob", bob)):
                result = await commands.recall(memory, "food preferences")
                say(f"    {name}: " + replies.recalled(result).replace("\n", "\n      "))
                found[name] = {r.text for r in result.records}
            check(alice_says in found["alice"], "alice finds her own memory")
            check(bob_says not in found["alice"], "alice sees nothing of bob's")
            check(alice_says not in found["bob"], "bob sees nothing of alice's")

            say("3. both list everything")
            for name, memory, own in (("alice", alice, alice_says), ("bob", bob, bob_says)):
                listed = [r.text for r in await memory.get_all()]
                say(f"    {name}: {listed}")
                check(listed == [own], f"{name} lists exactly their own memory")

            say("4. alice: /forget (confirmed)")
            erased = await commands.forget_everything(alice)
            say("    " + replies.forgotten(erased))
            check(erased == 1 and await alice.count() == 0, "alice has no memories left")
            leftovers = _files_containing(demo_dir, alice_says)
            check(not leftovers, f"no file in the data dir still contains {alice_says!r}")

            say("5. bob is intact")
            bob_now = [r.text for r in await bob.get_all()]
            say(f"    bob: {bob_now}")
            check(bob_now == [bob_says], "bob still has his memory")
    finally:
        shutil.rmtree(demo_dir, ignore_errors=True)

    if failures:
        say(f"ISOLATION FAILED: {len(failures)} check(s) did not hold")
        return 1
    say("All checks held: each person saw only their own memories, and forgetting erased everything.")
    return 0

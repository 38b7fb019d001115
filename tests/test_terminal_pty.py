"""`cubby chat` in a real terminal (a pty): line editing and history through readline, and Ctrl-C."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pty = pytest.importorskip("pty")


def _make_controlling_terminal() -> None:
    # In the child, after setsid: the pty becomes its terminal, so Ctrl-C there sends SIGINT. A
    # shell starts background jobs with SIGINT ignored, and children inherit that: restore what a
    # terminal's foreground program gets.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """`cubby chat --user alice` on the child side of a pty; reads everything it prints."""

    def __init__(self, tmp_path: Path) -> None:
        leader, follower = pty.openpty()
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp_path),
            "TERM": "xterm",
            "CUBBY_DATA_DIR": str(tmp_path / "data"),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "chat", "--user", "alice"],
            stdin=follower, stdout=follower, stderr=follower, env=environment, cwd=tmp_path,
            start_new_session=True, preexec_fn=_make_controlling_terminal,
        )  # fmt: skip
        os.close(follower)
        self.leader = leader
        self.output = b""

    def wait_for(self, text: str, timeout: float = 60.0, times: int = 1) -> None:
        """Until ``text`` has been printed ``times`` times in all."""
        deadline = time.monotonic() + timeout
        while self.output.count(text.encode()) < times:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never printed {text!r}; printed {self.output[-500:]!r}"
            ready, _, _ = select.select([self.leader], [], [], remaining)
            if ready:
                try:
                    self.output += os.read(self.leader, 65536)
                except OSError:  # the child closed the terminal
                    assert text.encode() in self.output, f"exited before {text!r}: {self.output[-500:]!r}"

    def type(self, keys: str) -> None:
        os.write(self.leader, keys.encode())

    def exit_code(self, timeout: float = 30.0) -> int | None:
        """Wait for the process to end, reading what it prints meanwhile; None if it did not."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.leader], [], [], 0.1)
            if ready:
                with contextlib.suppress(OSError):  # the child closed the terminal
                    self.output += os.read(self.leader, 65536)
        return self.process.poll()

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.leader)


@pytest.fixture
def terminal(tmp_path: Path):
    opened = Terminal(tmp_path)
    yield opened
    opened.close()


def test_arrow_keys_edit_the_line_and_recall_history(terminal: Terminal) -> None:
    terminal.wait_for("Type /quit to leave.\r\n> ")
    terminal.type("/remember I am vegetarn\x1b[Dia\r")  # left arrow, then the missing letters
    terminal.wait_for("I'll remember: I am vegetarian\r\n> ")
    terminal.type("/recall\r")
    terminal.wait_for("Everything I remember about you (1)")
    terminal.type("\x1b[A\x1b[A\r")  # up twice: the /remember line again
    terminal.wait_for("I'll remember: I am vegetarian", times=2)
    assert b"control characters" not in terminal.output


def test_ctrl_c_at_the_prompt_quits_at_once(terminal: Terminal) -> None:
    terminal.wait_for("Type /quit to leave.\r\n> ")
    started = time.monotonic()
    terminal.type("\x03")
    assert terminal.exit_code() == 130, terminal.output[-800:]
    assert time.monotonic() - started < 15


def test_ctrl_c_at_a_confirmation_quits_and_erases_nothing(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait_for("Type /quit to leave.")
    terminal.type("/remember I am vegetarian\r")
    terminal.wait_for("I'll remember")
    terminal.type("/forget\r")
    terminal.wait_for("Type yes to confirm: ")
    terminal.type("\x03")
    assert terminal.exit_code() == 130, terminal.output[-800:]
    listed = subprocess.run(
        [sys.executable, "-m", "bots.cli", "memories", "export", "--user", "cli:alice"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CUBBY_DATA_DIR": str(tmp_path / "data")},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert '"count": 1' in listed.stdout, listed.stderr

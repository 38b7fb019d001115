"""`cubby chat` with and without OPENAI_API_KEY: a plain line goes to the agent, which converses with an
LLM and shows the relevant memories without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.terminal import TerminalChat
from core import Agent, Hub, Settings, UserKey, open_hub
from tests.loopback.openai_server import FakeOpenAI, answer, extracted
from tests.test_terminal import Script

from .conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]


async def test_in_a_terminal_session_a_plain_line_is_answered_by_the_llm(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.script("chat", answer("A chickpea curry would suit you."))
    script = Script(["/remember I am vegetarian", "What should I cook tonight?"])
    alice = llm_hub.scoped(UserKey.cli("alice"))

    await TerminalChat(alice, script.ask, script.say, tmp_path, agent).run()

    assert "I answer from what I remember" in script.said[0]
    assert script.said[-1] == "A chickpea curry would suit you."
    assert "I am vegetarian" in fake_openai.requests("chat")[0].text


def run_cubby_chat(tmp_path: Path, lines: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "chat", "--user", "alice"],
        input="\n".join(lines) + "\n",
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "PYTHONPATH": str(ROOT),
            "CUBBY_DATA_DIR": str(tmp_path / "data"),
            **environment,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("with_llm", [True, False], ids=["with OPENAI_API_KEY", "without"])
async def test_cubby_chat_works_with_and_without_an_api_key(
    settings: Settings, fake_openai: FakeOpenAI, tmp_path: Path, with_llm: bool
) -> None:
    fake_openai.script("chat", answer("Your seat is by the window, as always."))
    fake_openai.script("extraction", extracted("Flies to Oslo on Friday"))
    llm = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": fake_openai.url} if with_llm else {}
    lines = ["/remember I always want a window seat", "I fly to Oslo on Friday, which seat do I want?"]

    finished = run_cubby_chat(tmp_path, lines, **llm)

    assert finished.returncode == 0, finished.stderr
    async with open_hub(settings=settings) as hub:
        remembered = {r.text for r in await hub.scoped(UserKey.cli("alice")).get_all()}
    if with_llm:
        assert "Your seat is by the window, as always." in finished.stdout
        assert remembered == {"I always want a window seat", "Flies to Oslo on Friday"}
    else:
        assert "Here is what I remember that may help:\n- I always want a window seat" in finished.stdout
        assert remembered == {"I always want a window seat"} and fake_openai.received == []

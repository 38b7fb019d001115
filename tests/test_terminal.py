"""The terminal adapter: `cubby chat` and `cubby demo`, driven line by line."""

import json
from pathlib import Path

import pytest

from bots.terminal import TerminalChat, demo
from core import Hub, Settings, UserKey


class Script:
    """Feeds answers to the chat's prompts and collects what it says."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.said: list[str] = []

    async def ask(self, prompt: str) -> str:
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        if text:
            self.said.append(text)

    @property
    def transcript(self) -> str:
        return "\n".join(self.said)


async def run_chat(hub: Hub, tmp_path: Path, name: str, lines: list[str]) -> Script:
    script = Script(lines)
    await TerminalChat(hub.scoped(UserKey.cli(name)), script.ask, script.say, tmp_path / "exports").run()
    return script


async def test_remember_then_recall_by_meaning_and_by_listing(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(hub, tmp_path, "alice", ["/remember I am vegetarian", "/recall food", "/recall"])
    assert "I'll remember: I am vegetarian" in script.transcript
    assert 'What I remember about "food"' in script.transcript
    assert "Everything I remember about you (1)" in script.transcript


async def test_a_plain_line_searches(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(hub, tmp_path, "alice", ["/remember I always want a window seat", "plane seats"])
    assert "window seat" in script.said[-1]


async def test_forget_asks_first_and_a_no_keeps_everything(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(hub, tmp_path, "alice", ["/remember I am vegetarian", "/forget", "no"])
    assert "Forget everything?" in script.transcript and "kept everything" in script.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 1


async def test_forget_everything_after_yes(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(
        hub, tmp_path, "alice", ["/remember I am vegetarian", "/remember I like jazz", "/forget", "yes"]
    )
    assert "erased 2 memories" in script.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 0


async def test_forget_one_memory_by_its_id(hub: Hub, tmp_path: Path) -> None:
    memory = hub.scoped(UserKey.cli("alice"))
    [record] = await memory.add("I am vegetarian")
    await memory.add("I like jazz")
    script = await run_chat(hub, tmp_path, "alice", [f"/forget {record.id}", "yes"])
    assert "Forget this memory for good?" in script.transcript
    assert [r.text for r in await memory.get_all()] == ["I like jazz"]


async def test_forget_one_memory_by_choosing_among_matches(hub: Hub, tmp_path: Path) -> None:
    lines = ["/remember I am vegetarian", "/remember my cat is called Miso", "/remember I like cats"]
    script = await run_chat(hub, tmp_path, "alice", [*lines, "/forget cat", "2"])
    assert "Which one should I forget?" in script.transcript
    assert "erased 1 memory" in script.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 2


async def test_export_writes_a_private_json_file(hub: Hub, tmp_path: Path) -> None:
    await run_chat(hub, tmp_path, "alice", ["/remember I am vegetarian", "/export"])
    [path] = (tmp_path / "exports").iterdir()
    assert path.stat().st_mode & 0o077 == 0
    document = json.loads(path.read_text())
    assert document["user"] == "cli:alice" and [m["text"] for m in document["memories"]] == [
        "I am vegetarian"
    ]


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("/remember", "nothing to remember"),
        ("/remember    ", "nothing to remember"),
        ("/remember " + "x" * 5000, "too long"),
        ("/remember bad\x00byte", "control characters"),
        ("/recall " + "q" * 900, "too long"),
        ("/frobnicate", "I don't know /frobnicate"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    hub: Hub, tmp_path: Path, line, answer
) -> None:
    script = await run_chat(hub, tmp_path, "alice", [line])
    assert answer in script.said[-1]
    assert await hub.scoped(UserKey.cli("alice")).count() == 0


async def test_people_in_one_terminal_session_never_see_each_other(hub: Hub, tmp_path: Path) -> None:
    await run_chat(hub, tmp_path, "alice", ["/remember I am a strict pescatarian"])
    bob = await run_chat(hub, tmp_path, "bob", ["/recall food", "/recall", "what do I eat", "/forget", "yes"])
    assert "pescatarian" not in bob.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 1


async def test_the_demo_runs_the_scenario_and_exits_zero(settings: Settings) -> None:
    said: list[str] = []
    assert await demo(settings, said.append) == 0
    transcript = "\n".join(said)
    assert "FAIL" not in transcript and "All checks held" in transcript
    assert not (settings.data_dir / "demo").exists()


async def test_forgetting_someone_elses_memory_id_finds_nothing_to_forget(hub: Hub, tmp_path: Path) -> None:
    [bobs] = await hub.scoped(UserKey.cli("bob")).add("I always want a window seat")
    await hub.scoped(UserKey.cli("alice")).add("I always want a window seat too")
    script = await run_chat(hub, tmp_path, "alice", [f"/forget {bobs.id}", "yes"])
    assert "I found nothing to forget." in script.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 1
    assert await hub.scoped(UserKey.cli("bob")).count() == 1


@pytest.mark.parametrize("answer", ["²", "١", "0", "99", "-1", "two"])
async def test_an_odd_answer_to_which_one_cancels_instead_of_crashing(
    hub: Hub, tmp_path: Path, answer
) -> None:
    lines = ["/remember my cat is called Miso", "/remember I like cats", "/forget cat", answer]
    script = await run_chat(hub, tmp_path, "alice", lines)
    assert "kept everything" in script.transcript
    assert await hub.scoped(UserKey.cli("alice")).count() == 2


async def test_an_unknown_command_is_not_echoed_with_control_characters(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(hub, tmp_path, "alice", ["/\x1b[31mred"])
    assert "\x1b" not in script.transcript and "I don't know /?[31mred" in script.transcript


async def test_export_to_a_path_the_person_gives_and_never_through_a_planted_symlink(
    hub: Hub, tmp_path: Path
) -> None:
    chosen = tmp_path / "mine.json"
    planted = tmp_path / "planted.json"
    planted.symlink_to(tmp_path / "elsewhere.json")
    script = await run_chat(hub, tmp_path, "alice", ["/remember I am vegetarian", f"/export {chosen}",
                                                     f"/export {planted}"])  # fmt: skip
    assert f"Wrote 1 memories to {chosen}" in script.transcript
    assert chosen.stat().st_mode & 0o777 == 0o600
    assert "already exists" in script.said[-1] and not (tmp_path / "elsewhere.json").exists()


async def test_forgetting_everything_also_deletes_the_exports_in_the_data_dir(
    hub: Hub, tmp_path: Path
) -> None:
    lines = ["/remember I am vegetarian", "/export", "/export", "/forget", "yes"]
    script = await run_chat(hub, tmp_path, "alice", lines)
    assert "I also deleted 2 export file(s)" in script.said[-1]
    assert list((tmp_path / "exports").iterdir()) == []


@pytest.mark.parametrize("argument", ["my memories", "bad\x00name.json", "/no/such/folder/x.json"])
async def test_an_export_destination_that_is_not_usable_is_refused_and_writes_nothing(
    hub: Hub, tmp_path: Path, argument: str
) -> None:
    script = await run_chat(hub, tmp_path, "alice", ["/remember I am vegetarian", f"/export {argument}"])
    assert script.said[-1].startswith("Sorry, I can't do that:")
    assert not (tmp_path / "exports").exists() and not (tmp_path / "my memories").exists()

"""Operator commands for data requests, safe to run beside a running bot."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bots import operator
from core import PostRef, Settings, UserKey, open_hub
from core.records import utc_now
from tests.conftest import files_containing

ROOT = Path(__file__).resolve().parent.parent


async def test_export_prints_everything_held_about_one_person(settings: Settings, capsys) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.slack("T1", "U1")).add("I am vegetarian")
        await hub.scoped(UserKey.slack("T2", "U1")).add("Someone else entirely")
    assert await operator.export_memories(settings, "slack:T1:U1", None) == 0
    document = json.loads(capsys.readouterr().out)
    assert [m["text"] for m in document["memories"]] == ["I am vegetarian"]


async def test_forget_needs_the_key_typed_back_unless_yes(settings: Settings) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
    assert await operator.forget_memories(settings, "cli:alice", assume_yes=False, ask=lambda _: "y") == 1
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(UserKey.cli("alice")).count() == 1
    assert (
        await operator.forget_memories(settings, "cli:alice", assume_yes=False, ask=lambda _: "cli:alice")
        == 0
    )
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(UserKey.cli("alice")).count() == 0


async def test_forget_from_another_process_while_a_bot_runs(settings: Settings) -> None:
    secret = "canary-7f1c9e-operator"
    async with open_hub(settings=settings) as bot:
        alice, bob = bot.scoped(UserKey.cli("alice")), bot.scoped(UserKey.cli("bob"))
        await alice.add(f"My secret is {secret}")
        await bob.add("I always want a window seat")
        finished = subprocess.run(
            [sys.executable, "-m", "bots.cli", "memories", "forget", "--user", "cli:alice", "--yes"],
            env={"CUBBY_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=settings.data_dir.parent,
        )
        assert finished.returncode == 0, finished.stderr
        assert await alice.count() == 0 and await alice.search("secret") == []
        assert [r.text for r in await bob.get_all()] == ["I always want a window seat"]
        assert files_containing(settings.data_dir, secret) == []


def test_a_malformed_key_is_refused_with_a_message() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bots.cli", "memories", "forget", "--user", "slack:T1:*", "--yes"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0 and "not a valid" in finished.stderr


async def test_forget_deletes_cubbys_slack_posts_when_it_has_the_bot_token(
    settings: Settings, capsys
) -> None:
    from pydantic import SecretStr

    from tests.loopback.slack_api import FakeSlack

    fake = FakeSlack()
    await fake.start()
    try:
        fake.messages.add(("DU1", "1.000100"))
        fake.files.add("F1")
        async with open_hub(settings=settings) as hub:
            alice = hub.scoped(UserKey.slack("T1", "U1"))
            [seat] = await alice.add("I always want a window seat")
            await alice.record_post(PostRef("slack", "message", "DU1", "1.000100"), [seat.id])
            await alice.record_post(PostRef("slack", "file", "", "F1"), [seat.id])
        with_token = settings.model_copy(
            update={"slack_bot_token": SecretStr("xoxb-T1"), "slack_api_url": fake.api_url}
        )

        assert await operator.forget_memories(with_token, "slack:T1:U1", assume_yes=True) == 0

        assert not fake.messages and not fake.files
        assert "Deleted 2 of Cubby's posts" in capsys.readouterr().err
    finally:
        await fake.stop()


async def test_forget_without_a_platform_token_says_which_posts_remain(settings: Settings, capsys) -> None:
    async with open_hub(settings=settings) as hub:
        alice = hub.scoped(UserKey.discord(81234567890123456))
        [seat] = await alice.add("I always want a window seat")
        await alice.record_post(PostRef("discord", "message", "1200000000000010101", "1300"), [seat.id])

    assert await operator.forget_memories(settings, "discord:81234567890123456", assume_yes=True) == 0

    err = capsys.readouterr().err
    assert "1 of Cubby's posts quoting them remain: there is no bot token here" in err
    assert "discord message 1200000000000010101 1300" in err and "window seat" not in err
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(UserKey.discord(81234567890123456)).posts() == []


async def test_export_forget_import_restores_an_identical_export(settings: Settings, tmp_path: Path) -> None:
    key = "slack:T1:U1"
    async with open_hub(settings=settings) as hub:
        memory = hub.scoped(UserKey.parse(key))
        await memory.add("I am vegetarian")
        await memory.add("parking is level 3", expires_at=utc_now() + timedelta(days=9))
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert await operator.export_memories(settings, key, before) == 0
    assert await operator.forget_memories(settings, key, assume_yes=True) == 0
    assert await operator.import_memories(settings, key, before) == 0
    assert await operator.import_memories(settings, key, before) == 0  # twice: nothing more
    assert await operator.export_memories(settings, key, after) == 0

    def without_stamp(path: Path) -> dict[str, object]:
        document = json.loads(path.read_text())
        document.pop("exported_at")
        return document

    assert without_stamp(after) == without_stamp(before)
    assert len(without_stamp(after)["memories"]) == 2  # type: ignore[arg-type]


async def test_import_refuses_a_malformed_file_and_changes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("kept")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "memories", "import", "--user", "cli:alice", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"CUBBY_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 1 and "not a Cubby export" in result.stderr
    async with open_hub(settings=settings) as hub:
        assert [r.text for r in await hub.scoped(UserKey.cli("alice")).get_all()] == ["kept"]

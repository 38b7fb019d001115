"""The data dir: where it is, who may read it, and what operator commands do when it is not there."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core import Settings, UserKey, load_settings, open_hub
from core.storage import DATABASE_NAME, exports_dir

ROOT = Path(__file__).resolve().parent.parent


def cubby(*args: str, data_dir: Path | None, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    environment["HOME"] = str(cwd / "home")
    if data_dir is not None:
        environment["CUBBY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        input=stdin,
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_default_data_dir_is_the_same_from_any_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CUBBY_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    here = load_settings().data_dir
    monkeypatch.chdir("/")
    assert load_settings().data_dir == here == tmp_path / "share" / "cubby"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert load_settings().data_dir == Path.home() / ".local" / "share" / "cubby"


async def test_the_data_dir_and_every_database_file_are_private_while_the_store_is_open(
    settings: Settings,
) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
        files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
        names = {p.name for p in files}
        assert {DATABASE_NAME, f"{DATABASE_NAME}-wal", f"{DATABASE_NAME}-shm"} <= names
        assert mode(settings.data_dir) == 0o700
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


async def test_an_older_readable_data_dir_is_tightened_when_opened(settings: Settings) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
    settings.data_dir.chmod(0o755)
    (settings.data_dir / DATABASE_NAME).chmod(0o644)
    async with open_hub(settings=settings):
        assert mode(settings.data_dir) == 0o700 and mode(settings.data_dir / DATABASE_NAME) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another local account (runuser)")
@pytest.mark.skipif(shutil.which("runuser") is None, reason="runuser is not installed")
def test_another_local_account_cannot_read_anything_cubby_wrote(tmp_path: Path) -> None:
    # A folder anyone may enter (pytest's own tmp folders are private), so only the modes Cubby
    # gives its files stand between the other account and them.
    base = Path(tempfile.mkdtemp(prefix="cubby-perm-"))
    try:
        base.chmod(0o755)
        control = base / "readable.txt"
        control.write_text("vegetarian\n")
        control.chmod(0o644)
        assert as_nobody("cat", control).returncode == 0  # the check below can fail

        data_dir = base / "data"
        lines = "/remember I am vegetarian\n/export\n"
        chatted = cubby("chat", "--user", "alice", data_dir=data_dir, cwd=tmp_path, stdin=lines)
        assert chatted.returncode == 0, chatted.stderr
        files = [p for p in data_dir.rglob("*") if p.is_file()]
        assert any(p.name == DATABASE_NAME for p in files) and any(p.suffix == ".json" for p in files)
        assert as_nobody("ls", data_dir).returncode != 0
        for path in files:
            other = as_nobody("cat", path)
            assert other.returncode != 0 and b"vegetarian" not in other.stdout, path
        assert all(mode(p) == 0o600 for p in files) and mode(data_dir) == 0o700
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_nobody(*command: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *map(str, command)], capture_output=True, timeout=30, check=False
    )


def test_operator_commands_never_create_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "not-a-data-dir"
    for command in (["forget", "--user", "cli:dave", "--yes"], ["export", "--user", "cli:dave"]):
        finished = cubby("memories", *command, data_dir=missing, cwd=tmp_path)
        assert finished.returncode != 0
        assert finished.stderr.strip().splitlines() == [
            f"cubby: no Cubby data at {missing} (set CUBBY_DATA_DIR to the data dir the bots use)"
        ]
        assert not missing.exists()


@pytest.fixture
async def alice_data(settings: Settings) -> Settings:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
    return settings


def test_export_refuses_a_planted_symlink_and_leaves_its_target_alone(
    alice_data: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "someone-elses-file"
    target.write_text("theirs\n")
    target.chmod(0o644)
    planted = tmp_path / "export.json"
    planted.symlink_to(target)
    finished = cubby("memories", "export", "--user", "cli:alice", "--output", str(planted),
                     data_dir=alice_data.data_dir, cwd=tmp_path)  # fmt: skip
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [
        f"cubby: {planted} already exists; choose a new file name"
    ]
    assert target.read_text() == "theirs\n" and mode(target) == 0o644


@pytest.mark.parametrize("case", ["existing file", "missing folder"])
def test_export_errors_are_one_line_and_write_nothing(
    alice_data: Settings, tmp_path: Path, case: str
) -> None:
    output = tmp_path / "old.json" if case == "existing file" else tmp_path / "no-such-folder" / "out.json"
    if case == "existing file":
        output.write_text("old\n")
        output.chmod(0o644)
    finished = cubby("memories", "export", "--user", "cli:alice", "--output", str(output),
                     data_dir=alice_data.data_dir, cwd=tmp_path)  # fmt: skip
    assert finished.returncode == 1 and len(finished.stderr.strip().splitlines()) == 1, finished.stderr
    if case == "existing file":
        assert output.read_text() == "old\n" and "already exists" in finished.stderr
    else:
        assert "does not exist" in finished.stderr and not output.parent.exists()


def test_export_to_a_new_file_is_private(alice_data: Settings, tmp_path: Path) -> None:
    output = tmp_path / "alice.json"
    finished = cubby("memories", "export", "--user", "cli:alice", "--output", str(output),
                     data_dir=alice_data.data_dir, cwd=tmp_path)  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert mode(output) == 0o600
    assert [m["text"] for m in json.loads(output.read_text())["memories"]] == ["I am vegetarian"]


def test_a_forget_prompt_at_end_of_input_erases_nothing_and_says_so(
    alice_data: Settings, tmp_path: Path
) -> None:
    finished = cubby("memories", "forget", "--user", "cli:alice", data_dir=alice_data.data_dir, cwd=tmp_path)
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1].startswith("cubby: no confirmation (end of input)")
    assert "Traceback" not in finished.stderr


async def test_operator_forget_also_erases_the_persons_exports(alice_data: Settings, tmp_path: Path) -> None:
    folder = exports_dir(alice_data.data_dir, UserKey.cli("alice"))
    folder.mkdir(parents=True)
    (folder / "cubby-memories-20260101-000000.json").write_text('{"memories": ["I am vegetarian"]}')
    finished = cubby("memories", "forget", "--user", "cli:alice", "--yes",
                     data_dir=alice_data.data_dir, cwd=tmp_path)  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert list(folder.iterdir()) == []


def test_folders_cubby_creates_are_private_down_to_the_first_that_existed(tmp_path: Path) -> None:
    from core.storage import private_dir

    tmp_path.chmod(0o755)
    made = private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", made)] == [0o700] * 3
    assert mode(tmp_path) == 0o755


async def test_only_cubbys_own_files_are_tightened_in_a_shared_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("not Cubby's")
    (shared / "notes.txt").chmod(0o644)
    async with open_hub(settings=load_settings(data_dir=shared)) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
    assert mode(shared / "notes.txt") == 0o644
    assert mode(shared / DATABASE_NAME) == 0o600 and mode(shared) == 0o700

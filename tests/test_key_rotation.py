"""The master key can be rotated: every person key is re-wrapped under a new one, no memory row is
touched, the old key no longer opens anything, and an interrupted rotation finishes on next open."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from bots import operator
from core import ConfigError, Settings, UserKey, load_settings, open_hub
from core.memory.crypto.master import MasterKey, write_key_file

ROOT = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def remember(settings: Settings, people: dict[str, str]) -> None:
    async with open_hub(settings=settings) as hub:
        for name, text in people.items():
            await hub.scoped(UserKey.cli(name)).add(text)


async def recall(settings: Settings, names: list[str]) -> dict[str, list[str]]:
    async with open_hub(settings=settings) as hub:
        return {name: [r.text for r in await hub.scoped(UserKey.cli(name)).get_all()] for name in names}


async def test_rotating_the_data_dir_key_rewraps_keys_and_leaves_rows_untouched(settings: Settings) -> None:
    people = {"alice": "I am vegetarian", "bob": "I like window seats"}
    await remember(settings, people)
    key_file, rows = settings.data_dir / "master.key", settings.data_dir / "memories.sqlite3"
    old_key, old_rows = key_file.read_text(), digest(rows)

    assert operator.rotate_keys(settings, None) == 0

    assert key_file.read_text() != old_key and key_file.stat().st_mode & 0o777 == 0o600
    assert digest(rows) == old_rows  # not one memory row was rewritten
    assert await recall(settings, list(people)) == {name: [text] for name, text in people.items()}
    key_file.write_text(old_key)  # the old master key opens nothing any more
    with pytest.raises(ConfigError, match="wrapped by master key"):
        await recall(settings, ["alice"])


async def test_rotating_a_key_given_in_the_environment_writes_the_new_one_to_a_file(
    tmp_path: Path, capsys
) -> None:
    old = MasterKey.generate()
    settings = load_settings(data_dir=tmp_path / "data", master_key=old.encoded())
    await remember(settings, {"alice": "I am vegetarian"})
    with pytest.raises(ConfigError, match="name a file"):
        operator.rotate_keys(settings, None)

    new_file = tmp_path / "new.key"
    assert operator.rotate_keys(settings, new_file) == 0
    assert "CUBBY_MASTER_KEY_FILE" in capsys.readouterr().err
    rotated = load_settings(data_dir=tmp_path / "data", master_key_file=new_file)
    assert await recall(rotated, ["alice"]) == {"alice": ["I am vegetarian"]}
    with pytest.raises(ConfigError):
        await recall(settings, ["alice"])


async def test_a_rotation_interrupted_after_rewrapping_finishes_when_the_store_is_next_opened(
    settings: Settings,
) -> None:
    from core.memory.backends import open_keyring

    await remember(settings, {"alice": "I am vegetarian"})
    key_file = settings.data_dir / "master.key"
    new = MasterKey.generate()
    write_key_file(key_file.with_name("master.key.new"), new)
    keyring = open_keyring(settings)
    keyring.rotate(new)  # ...and the process dies before master.key.new replaces master.key
    keyring.close()

    assert await recall(settings, ["alice"]) == {"alice": ["I am vegetarian"]}
    assert MasterKey(key_file.read_text().strip()) == new
    assert not key_file.with_name("master.key.new").exists()


def test_the_command_line_rotates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    environment = {"CUBBY_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-c", "from bots.cli import main; raise SystemExit(main())"]
    done = subprocess.run(
        [*run, "keys", "rotate"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "re-wrapped 0 person keys" in done.stderr

"""The `cubby` command itself: its version, and what it says when a platform's extra is missing."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_version(tmp_path: Path) -> None:
    finished = run_python("from bots.cli import main; main(['--version'])", tmp_path)
    assert finished.stdout.strip() == f"cubby {importlib.metadata.version('cubby')}"


@pytest.mark.parametrize(
    ("command", "hidden"), [("slack", "aiohttp"), ("slack", "slack_bolt"), ("discord", "discord")]
)
def test_a_platform_without_its_extra_is_one_line_naming_the_extra(
    tmp_path: Path, command: str, hidden: str
) -> None:
    # A module set to None in sys.modules is one that cannot be found, as if it were not installed.
    hide = f"import sys; sys.modules[{hidden!r}] = None"
    finished = run_python(f"{hide}; from bots.cli import main; sys.exit(main([{command!r}]))", tmp_path)
    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert f"needs the {command} extra" in line and f"'cubby[{command}]'" in line and hidden in line

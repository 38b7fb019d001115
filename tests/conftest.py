"""Shared fixtures. Every test runs the real stack: real mem0, the real SQLite store, the real
embedding model. Nothing in the memory path is mocked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core import Hub, Settings, load_settings, open_hub

# Variables a developer's shell or .env might hold that would change what the tests exercise.
_OUTSIDE_SETTINGS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "MEM0_API_KEY",
    "CUBBY_BACKEND",
    "CUBBY_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_TOKEN",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _OUTSIDE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer .env is read


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    async with open_hub(settings=settings) as opened:
        yield opened


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (UTF-8)."""
    data = needle.encode("utf-8")
    return [path for path in root.rglob("*") if path.is_file() and data in path.read_bytes()]

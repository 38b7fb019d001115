"""The start-up benchmarks keep working: ``bench.perf.coldstart`` (ready by phase, and the real
``cubby chat``) and ``bench.perf.embedder`` (the embedder's settings), each once in a tiny
configuration on the real stack. Their figures mean nothing at this size; these tests check that
every part ran and reported, and that every setting the embedder bench offers stays faithful to the
original model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.perf import coldstart, embedder


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    for name in list(os.environ):
        if name.startswith(("CUBBY_", "SLACK_", "DISCORD_", "OPENAI_", "MEM0_")):
            monkeypatch.delenv(name)
    return tmp_path


def test_the_cold_start_bench_times_each_phase_and_the_real_entry_point_against_another_checkout(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = clean_environment / "coldstart.json"
    arguments = ["--people=20", "--pool=64", "--runs=1", f"--store={clean_environment / 'store'}"]
    assert coldstart.main([*arguments, f"--json={figures}", f"--against={coldstart.ROOT}"]) == 0

    printed = capsys.readouterr().out
    measured = json.loads(figures.read_text())
    [hub] = measured["hub"]
    phases = hub["phases"]
    for phase in (
        "interpreter start",
        "import core",
        "import mem0",
        "model load (own thread)",
        "first search",
    ):
        assert phase in printed and phases[phase][0] <= phases[phase][1] <= hub["ready_s"]
    # The model loads while mem0 is imported, not after it.
    assert phases["model load (own thread)"][0] < phases["import mem0"][1]
    [ready], [answered] = measured["chat_ready_s"], measured["chat_first_answer_s"]
    assert 0 < ready <= answered
    assert measured["against_ready_s"][0] > 0 and measured["against_chat_ready_s"][0] > 0
    assert "x as long there" in printed


def test_the_embedder_bench_measures_every_setting_and_each_is_faithful(
    clean_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = clean_environment / "embedder.json"
    assert embedder.main(["--texts=32", "--rounds=1", f"--json={figures}"]) == 0

    measured = json.loads(figures.read_text())
    rows = measured["settings"]
    assert [(row["optimization"], row["threads"]) for row in rows] == embedder.SETTINGS
    assert embedder.SETTINGS[0] == embedder.BEFORE and embedder.CHOSEN in embedder.SETTINGS
    assert all(row["min_cosine"] >= 0.999 and row["max_similarity_error"] < 0.01 for row in rows)
    assert all(row[key] > 0 for row in rows for key, _, _ in embedder._COLUMNS)
    assert "AVX2" in measured["cpu"] and "(chosen)" in capsys.readouterr().out

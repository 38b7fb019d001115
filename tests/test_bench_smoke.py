"""The benchmarks keep working: each script runs once in a tiny configuration on the real stack (real
mem0, SQLite store, embedding model, adapters, stock qdrant store). The figures of such runs mean
nothing - a handful of people on a shared CPU - so these tests check that every part ran and reported,
never how fast. Speed figures live in bench/results/."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import recall, run
from bench.perf.baseline_qdrant import StockQdrantConfig
from bench.perf.corpus import CHUNK, Corpus, Pool, memory_counts, user_key
from bench.perf.targets import evaluate
from bench.perf.workload import FreshTexts, search_workload
from core import UserKey, load_settings
from core.memory.embedding import DIMENSIONS
from core.memory.mem0_setup import import_mem0

ROOT = Path(__file__).resolve().parent.parent

TINY = [
    "--users=30,60",
    "--pool=256",
    "--query-pool=32",
    "--store-samples=50",
    "--reference-users=30",
    "--e2e-samples=10",
    "--concurrency=10",
    "--duration=1",
    "--ack-interval=0.2",
    "--baseline-users=30",
    "--baseline-samples=3",
    "--worker-events=6",
    "--worker-samples=20",
    "--growth=10,40",
    "--growth-samples=3",
    "--sealed-samples=0",  # bench.sealed has its own smoke test below
    "--name=smoke",
    "--no-progress",
]


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def fake_pool(size: int = 600) -> Pool:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(size + 8, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Pool(
        [f"text {i}" for i in range(size)], vectors[:size], [f"q {i}" for i in range(8)], vectors[size:]
    )


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """One tiny run of ``bench.run`` shared by the tests below (it takes ~20 s)."""
    scratch = tmp_path_factory.mktemp("bench")
    data, results = scratch / "data", scratch / "results"
    with pytest.MonkeyPatch.context() as environment:
        environment.chdir(scratch)  # no developer .env is read
        for name in list(os.environ):
            if name.startswith(("CUBBY_", "SLACK_", "DISCORD_", "OPENAI_", "MEM0_")):
                environment.delenv(name)
        assert run.main([*TINY, f"--data-dir={data}", f"--results-dir={results}"]) == 0
    return json.loads((results / "smoke.json").read_text()), results, data


def test_every_part_of_the_full_benchmark_runs_and_reports(
    full_run: tuple[dict[str, Any], Path, Path],
) -> None:
    result, _, data = full_run
    assert result["payload_shape_matches_real_add"] is True
    assert [point["people"] for point in result["store"]] == [30, 60]
    assert [row["memories"] for row in result["growth"]] == [10, 40]
    assert all(row["export"]["n"] >= 3 and row["recall_end_to_end"]["n"] == 3 for row in result["growth"])
    assert set(result["machine"]["cpu"]) >= {"model", "AVX2", "AVX-512", "AVX-512 VNNI"}
    for point in result["store"]:
        assert point["search"]["n"] == 50 and point["empty_results"] == 0
        assert point["rows"] >= 5 * point["people"] and point["bytes_per_memory"] > 0
    smaller, larger = result["store"]
    assert "reference_beside" not in smaller
    assert larger["reference_beside"]["people"] == 30 and larger["reference_beside"]["n"] == 50
    assert result["cubby_at_baseline"]["scoped"]["n"] == 10
    assert result["recall_end_to_end"]["n"] == 10
    for phase in ("recall", "remember"):
        assert result["throughput"][phase]["errors"] == 0
        assert result["throughput"][phase]["cpu_ms_per_operation"] > 0
    assert result["throughput"]["recall"]["recalls_per_s"] > 0
    assert result["throughput"]["remember"]["remembers_per_s"] > 0
    assert result["cold_start"]["ready_s"] > 0 and result["cold_start"]["rss_ready_mb"] > 0
    assert result["baseline"]["people"] == 30
    assert result["baseline"]["store_search"]["n"] == 3 and result["baseline"]["scoped_search"]["n"] == 3
    assert {target["status"] for target in result["targets"]} <= {"pass", "short", "n/a"}
    workers = result["workers"]["embedded"]
    assert workers["install"] == {"through_worker": 1, "status": 200, "served_by": 3, "of": 3}
    for phase in ("retries", "racing"):
        assert workers[phase]["answered_once"] == 6 and workers[phase]["retries"] == 12
    assert workers["claim"]["shared"]["first_delivery"]["n"] == 20
    assert workers["retry_ack"]["in_memory"]["n"] == 20
    assert not data.exists(), "the scratch data is deleted unless --keep-data"


def test_slash_commands_are_acknowledged_through_each_adapter_that_is_present(
    full_run: tuple[dict[str, Any], Path, Path],
) -> None:
    acks = full_run[0]["ack"]
    for platform, package in (("slack", "bots.slack"), ("discord", "bots.discord")):
        if installed(package):
            assert acks[platform]["errors"] == 0
            assert acks[platform]["ack"]["n"] >= 3
            assert full_run[0]["throughput"]["mixed"]["errors"] == 0
        else:
            assert package in acks["skipped"][platform]


def test_the_report_has_the_targets_the_tables_and_the_plots(
    full_run: tuple[dict[str, Any], Path, Path],
) -> None:
    _, results, _ = full_run
    report = (results / "smoke.md").read_text()
    for heading in ("## Targets", "## Store-level", "## Through Cubby", "## Baseline", "## Many workers"):
        assert heading in report
    for plot in ("smoke-latency.png", "smoke-throughput.png"):
        if installed("matplotlib"):
            assert (results / plot).read_bytes().startswith(b"\x89PNG")
            assert f"]({plot})" in report
        else:
            assert "plots skipped: matplotlib is not installed" in report


def test_the_recall_benchmark_compares_scoped_search_with_the_stock_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--people=40", "--samples=10", "--baseline-samples=3", "--pool=128", "--query-pool=16"]

    assert recall.main([*arguments, f"--data-dir={tmp_path / 'data'}", "--no-progress"]) == 0

    printed = capsys.readouterr().out
    assert "ScopedMemory.search at 40 people" in printed
    assert "Cubby (embedded SQLite store)" in printed
    assert "mem0 stock default (qdrant local mode)" in printed
    assert "ratio (stock / Cubby): p50 " in printed


def test_a_person_gets_the_same_memories_whichever_range_is_seeded() -> None:
    corpus = Corpus(fake_pool(), seed=3)
    whole = [row for rows in corpus.rows(0, CHUNK + 50) for row in zip(rows.ids, rows.payloads, strict=True)]
    part = [
        row for rows in corpus.rows(CHUNK - 5, CHUNK + 5) for row in zip(rows.ids, rows.payloads, strict=True)
    ]
    people = {user_key(i) for i in range(CHUNK - 5, CHUNK + 5)}
    assert part == [row for row in whole if row[1]["user_id"] in people]
    assert corpus.count_of(CHUNK + 1) == sum(1 for _, p in whole if p["user_id"] == user_key(CHUNK + 1))


def test_synthetic_people_have_valid_keys_and_5_to_40_memories_with_a_few_in_the_hundreds() -> None:
    for index in (0, 6, 7, 9, 999_999):
        assert str(UserKey.parse(user_key(index))) == user_key(index)
    counts = memory_counts(np.random.default_rng(1), 100_000, cap=500)
    ordinary = counts[counts <= 40]
    assert ordinary.min() == 5 and ordinary.max() == 40
    assert 0.002 < (counts >= 100).mean() < 0.01
    assert 10 < counts.mean() < 16


def test_no_text_repeats_across_a_long_run_so_no_search_hits_the_embedding_cache() -> None:
    workload = search_workload(300, 1000, seed=7)
    fresh = FreshTexts(7, used_queries=300, used_memories=256)
    queries = [query for _, query in workload] + [fresh.query() for _ in range(20_000)]
    assert len(set(queries)) == len(queries)
    memories = [fresh.memory() for _ in range(60_000)]
    assert len(set(memories)) == len(memories)


def test_targets_are_short_when_missed_and_not_applicable_when_not_measured() -> None:
    search = {"n": 100, "p50_ms": 0.1, "p99_ms": 3.0}
    result = {
        "store": [{"people": 10_000, "search": search}, {"people": 1_000_000, "search": search}],
        "recall_end_to_end": {"n": 10, "p50_ms": 12.0},
        "throughput": {"recall": {"people": 200, "recalls_per_s": 320.0, "errors": 0}},
        "ack": {"skipped": {"discord": "bots.discord is not installed or not present"}},
        "machine": {"cpus": 2},
    }
    verdicts = {v.target: v for v in evaluate(result)}
    assert verdicts["store p50 <= 0.2 ms at 1M people"].status == "pass"
    assert verdicts["store p99 <= 2 ms at 1M people"].status == "short"
    assert verdicts["store p50(1M) / p50(10K) <= 1.5"].status == "pass"
    assert verdicts["end-to-end recall p50 <= 10 ms"].status == "short"
    assert verdicts[">= 300 recalls/s per process"].status == "pass"
    assert verdicts[">= 150 remembers/s per process"].status == "n/a"
    assert verdicts["discord ack p99 <= 100 ms under load"].note.startswith("bots.discord")
    assert verdicts["ready <= 2 s"].status == "n/a"


def test_the_baseline_uses_the_defaults_of_mem0s_qdrant_config(tmp_path: Path) -> None:
    import_mem0(load_settings(data_dir=tmp_path))  # mem0 must first be imported the way Cubby does it
    from mem0.configs.vector_stores.qdrant import QdrantConfig

    stock = QdrantConfig(path="/nonexistent")
    ours = StockQdrantConfig(path="/nonexistent")
    assert set(StockQdrantConfig.model_fields) <= set(QdrantConfig.model_fields)
    assert (ours.collection_name, ours.on_disk, ours.client) == (stock.collection_name, stock.on_disk, None)


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git clone")
def test_the_benchmarks_default_scratch_space_is_git_ignored_inside_the_repository() -> None:
    from bench import SCRATCH

    for default in (SCRATCH / "run", recall.DEFAULT_DATA_DIR):
        assert default.is_relative_to(ROOT)
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(default / "memories.sqlite3")], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0, f"{default} is not git-ignored"


def test_the_sealed_benchmark_compares_sealed_rows_with_the_unencrypted_layout(
    tmp_path: Path, capsys
) -> None:
    from bench import sealed

    figures = tmp_path / "sealed.json"
    arguments = ["--people=4", "--memories=2", "--heavy=12", "--samples=4", "--forget=2", f"--json={figures}"]
    assert sealed.main(arguments) == 0
    result = json.loads(figures.read_text())
    assert set(result["ratio_sealed_to_plain_p50"]) == {"search", "add", "heavy search"}
    assert result["keys"]["created"] == 5 and result["keys"]["destroyed"] == 2
    assert result["sealed"]["bytes_per_memory"] < result["plain"]["bytes_per_memory"]
    assert "bytes per memory on disk" in capsys.readouterr().out

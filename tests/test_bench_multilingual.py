"""The multilingual bench keeps working: one quick pass prints recall@1 for same-language and
cross-language questions, and the cost per text, for both embedding models."""

from __future__ import annotations

import numpy as np
import pytest

from bench import multilingual
from bench.multilingual_set import LANGUAGES, PAIRS


def test_the_test_set_asks_about_every_fact_in_every_language() -> None:
    assert 20 <= len(PAIRS) <= 40
    assert all(set(asked) == set(LANGUAGES) for _, asked in PAIRS)
    assert len({fact for fact, _ in PAIRS}) == len(PAIRS)


def test_recall_at_1_counts_the_questions_whose_own_fact_is_closest() -> None:
    facts = np.eye(3, dtype=np.float32)
    questions = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    assert multilingual.recall_at_1(facts, questions) == pytest.approx(2 / 3)


def test_the_bench_prints_both_models_recall_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert multilingual.main(["--repeats=1"]) == 0

    printed = capsys.readouterr().out
    assert "recall@1 over 30 facts" in printed
    rows = {
        line.split()[0]: line.split() for line in printed.splitlines() if line.startswith(("minilm", "multi"))
    }
    assert set(rows) == {"minilm", "multilingual"}
    assert "multilingual / minilm: cross-language recall@1" in printed
    # The point of the extra: the multilingual model finds far more across languages than MiniLM.
    assert float(rows["multilingual"][5]) >= float(rows["minilm"][5]) + 0.3

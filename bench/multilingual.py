"""Cross-language recall of the embedding models: ``python -m bench.multilingual``.

For each model (``CUBBY_EMBEDDING_MODEL``): the 30 facts of :mod:`bench.multilingual_set` are
embedded as memories (English), and every question - asked in English (same language) and in German,
French and Spanish (cross-language) - is scored by recall@1: is the fact it asks about the closest of
all 30? Per-text cost is the median time to embed one text alone (a /remember or a /recall), and the
mean per text in a batch of all questions, on this machine, after a warm-up. Both models run in the
same process, so their figures compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from bench.multilingual_set import LANGUAGES, PAIRS
from core.memory.models import MODELS, shared_encoder


@dataclass(frozen=True, slots=True)
class ModelFigures:
    name: str
    recall_at_1: dict[str, float]  # by question language
    one_text_ms: float
    batched_ms: float
    load_s: float

    @property
    def cross_language(self) -> float:
        return statistics.fmean(self.recall_at_1[language] for language in LANGUAGES if language != "en")


def recall_at_1(facts: np.ndarray, questions: np.ndarray) -> float:
    """Share of questions (row i asks about fact i) whose closest fact is their own."""
    best = np.argmax(questions @ facts.T, axis=1)
    return float(np.mean(best == np.arange(len(questions))))


def measure(name: str, repeats: int) -> ModelFigures:
    started = time.perf_counter()
    encoder = shared_encoder(name)
    encoder.encode(["warm-up"])
    load_s = time.perf_counter() - started
    facts = encoder.encode([fact for fact, _ in PAIRS])
    recalls = {}
    for language in LANGUAGES:
        questions = encoder.encode([asked[language] for _, asked in PAIRS])
        recalls[language] = recall_at_1(facts, questions)
    every_question = [asked[language] for _, asked in PAIRS for language in LANGUAGES]
    one_by_one = []
    for _ in range(repeats):
        for text in every_question:
            began = time.perf_counter()
            encoder.encode([text])
            one_by_one.append(time.perf_counter() - began)
    began = time.perf_counter()
    for _ in range(repeats):
        encoder.encode(every_question)
    batched = (time.perf_counter() - began) / (repeats * len(every_question))
    return ModelFigures(name, recalls, statistics.median(one_by_one) * 1000, batched * 1000, load_s)


def table(figures: list[ModelFigures]) -> list[str]:
    columns = f"{'same (en)':>9} {'de':>6} {'fr':>6} {'es':>6} {'cross':>6}  {'1 text':>8}  {'batched':>8}"
    head = f"{'model':<13} {columns}"
    lines = [f"recall@1 over {len(PAIRS)} facts (memories in English; questions by language)", head]
    for f in figures:
        r = f.recall_at_1
        lines.append(
            f"{f.name:<13} {r['en']:>9.2f} {r['de']:>6.2f} {r['fr']:>6.2f} {r['es']:>6.2f} "
            f"{f.cross_language:>6.2f}  {f.one_text_ms:>6.2f}ms  {f.batched_ms:>6.2f}ms"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default=",".join(MODELS), help="comma-separated CUBBY_EMBEDDING_MODEL names"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over all questions")
    options = parser.parse_args(argv)
    names = [name for name in options.models.split(",") if name]
    try:
        figures = [measure(name, options.repeats) for name in names]
    except Exception as error:  # a missing extra says how to install it
        print(f"cannot run the multilingual bench: {error}", file=sys.stderr)
        return 2
    for line in table(figures):
        print(line)
    if len(figures) > 1:
        base, other = figures[0], figures[1]
        one, batched = other.one_text_ms / base.one_text_ms, other.batched_ms / base.batched_ms
        print(
            f"{other.name} / {base.name}: cross-language recall@1 {other.cross_language:.2f} vs "
            f"{base.cross_language:.2f}; cost per text x{one:.1f} (one text), x{batched:.1f} (batched); "
            f"load {other.load_s:.1f} s vs {base.load_s:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

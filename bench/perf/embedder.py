"""The embedder's settings on this CPU: onnxruntime graph optimisation level x intra-op threads.

``python -m bench.perf.embedder`` builds :class:`core.memory.embedding.MiniLMEncoder` (the real class,
verified weights included) under each setting and measures, in one run:

- ``load``: building the encoder (read, sha256, tokenizer, onnxruntime session) - part of cold start;
- ``1 text``: one text per call, the quiet bot's case (median ms per call);
- ``batch 8`` / ``batch 32``: texts per second when :class:`core.memory.embed_queue.EmbedQueue` batches;
- ``2 thr x1`` / ``2 thr x8``: texts per second with two calls at once, like the hub's two embedding
  threads;
- fidelity: the smallest cosine to the original model's vectors (``tests/data/minilm_reference.json``)
  and the largest error in a pairwise similarity.

Ratios are against the setting Cubby used before (``BEFORE``, the first row), measured in the same
run; the settings take turns over several rounds and each figure is the median of its rounds, so a
machine that gets busier halfway slows every setting alike. A last line compares one padded batch
of 32 with the same texts sorted by length into batches of 8 (less padding, more calls).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.perf.heavy_report import cpu
from bench.perf.texts import memory_texts
from core.memory.embedding import GRAPH_OPTIMIZATION, MiniLMEncoder

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "minilm_reference.json"
BEFORE = ("all", 1)  # onnxruntime's default optimisation, what Cubby used before this bench chose
CHOSEN = (GRAPH_OPTIMIZATION, 1)
SETTINGS = [(level, threads) for level in ("all", "extended", "basic", "none") for threads in (1, 2)]


def _seconds(work: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def fidelity(encoder: MiniLMEncoder) -> tuple[float, float]:
    """(smallest cosine to the reference vectors, largest pairwise-similarity error)."""
    items = json.loads(REFERENCE.read_text("utf-8"))["vectors"]
    expected = np.array([item["vector"] for item in items])
    got = encoder.encode([item["text"] for item in items]).astype(np.float64)
    cosines = (got * expected).sum(axis=1)
    return float(cosines.min()), float(np.abs(got @ got.T - expected @ expected.T).max())


def _together(encoder: MiniLMEncoder, texts: list[str], size: int, threads: int = 2) -> float:
    """Texts per second with ``threads`` threads each embedding its share in calls of ``size``."""
    shares = [texts[i::threads] for i in range(threads)]

    def run(share: list[str]) -> None:
        for at in range(0, len(share), size):
            encoder.encode(share[at : at + size])

    workers = [threading.Thread(target=run, args=(share,)) for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(texts) / (time.perf_counter() - started)


def _per_second(encoder: MiniLMEncoder, texts: list[str], size: int) -> float:
    seconds = sum(_seconds(encoder.encode, texts[at : at + size]) for at in range(0, len(texts), size))
    return len(texts) / seconds


def measure(optimization: str, threads: int, texts: list[str]) -> dict[str, Any]:
    """One round of every figure for one setting."""
    encoder: MiniLMEncoder | None = None

    def load() -> None:
        nonlocal encoder
        encoder = MiniLMEncoder(optimization=optimization, threads=threads)

    load_seconds = _seconds(load)
    assert encoder is not None
    encoder.encode(texts[:8])  # the first call allocates onnxruntime's buffers
    min_cosine, max_similarity_error = fidelity(encoder)
    singles = [_seconds(encoder.encode, [text]) for text in texts[:64]]
    return {
        "optimization": optimization,
        "threads": threads,
        "load_ms": round(load_seconds * 1000, 1),
        "one_text_ms": round(statistics.median(singles) * 1000, 2),
        "batch8_per_s": round(_per_second(encoder, texts, 8), 1),
        "batch32_per_s": round(_per_second(encoder, texts, 32), 1),
        "two_threads_x1_per_s": round(_together(encoder, texts[:128], 1), 1),
        "two_threads_x8_per_s": round(_together(encoder, texts, 8), 1),
        "min_cosine": round(min_cosine, 5),
        "max_similarity_error": round(max_similarity_error, 5),
    }


def rounds(texts: list[str], count: int) -> list[dict[str, Any]]:
    """Every setting, taking turns ``count`` times; each figure is the median of its rounds."""
    measured: dict[tuple[str, int], list[dict[str, Any]]] = {setting: [] for setting in SETTINGS}
    for _ in range(count):
        for setting in SETTINGS:
            measured[setting].append(measure(*setting, texts))
    return [
        {
            key: statistics.median(r[key] for r in runs) if key not in ("optimization", "threads") else value
            for key, value in runs[0].items()
        }
        for runs in measured.values()
    ]


def bucketing(texts: list[str], rounds: int) -> dict[str, float]:
    """Texts per second: one padded call of 32 vs the same 32 sorted by length into calls of 8."""
    encoder = MiniLMEncoder()
    batches = [texts[at : at + 32] for at in range(0, len(texts) - 31, 32)]

    def sorted_calls(batch: list[str]) -> None:
        ordered = sorted(batch, key=len)
        for at in range(0, 32, 8):
            encoder.encode(ordered[at : at + 8])

    padded = sum(_seconds(encoder.encode, batch) for _ in range(rounds) for batch in batches)
    bucketed = sum(_seconds(sorted_calls, batch) for _ in range(rounds) for batch in batches)
    count = rounds * 32 * len(batches)
    return {
        "one_call_of_32_per_s": round(count / padded, 1),
        "sorted_calls_of_8_per_s": round(count / bucketed, 1),
    }


_COLUMNS = [
    ("load_ms", "load ms", False),
    ("one_text_ms", "1 text ms", False),
    ("batch8_per_s", "batch 8 /s", True),
    ("batch32_per_s", "batch 32 /s", True),
    ("two_threads_x1_per_s", "2 thr x1 /s", True),
    ("two_threads_x8_per_s", "2 thr x8 /s", True),
]


def table(rows: list[dict[str, Any]]) -> str:
    """Each figure with its ratio to the first row (>1 is better, whichever way the unit runs)."""
    before = rows[0]
    header = ["setting"] + [title for _, title, _ in _COLUMNS] + ["min cos", "max dsim"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for row in rows:
        setting = (row["optimization"], row["threads"])
        label = " (before)" if setting == BEFORE else " (chosen)" if setting == CHOSEN else ""
        cells = [f"{row['optimization']}, {row['threads']} thr{label}"]
        for key, _, higher_is_better in _COLUMNS:
            ratio = row[key] / before[key] if higher_is_better else before[key] / row[key]
            cells.append(f"{row[key]:g} ({ratio:.2f}x)")
        cells += [f"{row['min_cosine']:.5f}", f"{row['max_similarity_error']:.5f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=256, help="distinct memory texts per figure")
    parser.add_argument("--rounds", type=int, default=3, help="turns each setting takes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    texts = memory_texts(7)[: options.texts]
    machine = cpu()
    print("CPU", machine["model"], {k: v for k, v in machine.items() if k != "model"})
    rows = rounds(texts, options.rounds)
    print(table(rows))
    buckets = bucketing(texts, 2)
    print("padding:", buckets)
    if options.json:
        options.json.write_text(
            json.dumps({"cpu": machine, "settings": rows, "bucketing": buckets}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

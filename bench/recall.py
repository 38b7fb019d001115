"""Per-user search p50/p99 through ``ScopedMemory`` at 10K synthetic people, and the same workload on
mem0's stock default store (qdrant local mode) in the same run, with the ratio (issue 2).

    python -m bench.recall                       # 10K people, 300 searches; baseline 20 searches
    python -m bench.recall --people 2000 --baseline-samples 10

Both stores hold the same people, texts, ids and vectors (see bench/perf/corpus.py). Every query is a
distinct text, so each search really embeds its query (~4 ms of the figure). The baseline is slow
(about a second per search at 10K people), hence fewer samples; its p99 is then close to its max.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from bench import SCRATCH
from bench.perf import baseline_qdrant
from bench.perf.corpus import Corpus, build_pool
from bench.perf.latency import recall_latencies, warm_up
from bench.perf.seed import close_store, open_store, seed
from bench.perf.stats import progress_bar, summary
from bench.perf.workload import search_workload
from core import load_settings, open_hub

DEFAULT_DATA_DIR = SCRATCH / "recall"


async def _cubby(options: argparse.Namespace, workload: list[tuple[str, str]]) -> dict[str, Any]:
    async with open_hub(settings=load_settings(data_dir=options.data_dir / "cubby")) as hub:
        await warm_up(hub)
        return summary(await recall_latencies(hub, workload, format_reply=False))


def measure(options: argparse.Namespace) -> dict[str, Any]:
    cache = options.data_dir.parent / "pool-cache"  # kept between runs; the data dir is not
    print(f"scratch space: {options.data_dir} (text-pool cache: {cache})", file=sys.stderr)
    with progress_bar(
        options.pool + options.query_pool, "embedding the text pool", options.progress
    ) as advance:
        pool = build_pool(options.pool, options.query_pool, options.seed, cache, advance)
    corpus = Corpus(pool, options.seed)

    shutil.rmtree(options.data_dir / "cubby", ignore_errors=True)
    store = open_store(options.data_dir / "cubby")
    with progress_bar(options.people, "seeding Cubby's store", options.progress) as advance:
        rows = seed(store, corpus, 0, options.people, advance)
    close_store(store)

    workload = search_workload(options.samples, options.people, options.seed)
    cubby = asyncio.run(_cubby(options, workload))

    baseline: dict[str, Any] | None = None
    if options.baseline_samples > 0:
        arguments = [
            f"--data-dir={options.data_dir / 'qdrant'}",
            f"--cache-dir={cache}",
            f"--people={options.people}",
            f"--pool={options.pool}",
            f"--query-pool={options.query_pool}",
            f"--seed={options.seed}",
            "--store-samples=0",
            f"--scoped-samples={min(options.baseline_samples, options.samples)}",
            *(["--progress"] if options.progress else []),
        ]
        baseline = baseline_qdrant.run_in_subprocess(arguments)
    if not options.keep_data:
        shutil.rmtree(options.data_dir, ignore_errors=True)
    return {"people": options.people, "rows": rows, "cubby": cubby, "baseline": baseline}


def ratio(slow: dict[str, Any], fast: dict[str, Any], field: str) -> float | None:
    if not fast.get(field) or not slow.get(field):
        return None
    return round(slow[field] / fast[field], 1)


def render(result: dict[str, Any]) -> str:
    cubby, baseline = result["cubby"], result["baseline"]
    lines = [
        f"ScopedMemory.search at {result['people']:,} people ({result['rows']:,} memories), one at a time",
        f"{'store':<40} {'n':>5} {'p50 ms':>10} {'p99 ms':>10}",
        f"{'Cubby (embedded SQLite store)':<40} {cubby['n']:>5} "
        f"{cubby['p50_ms']:>10.2f} {cubby['p99_ms']:>10.2f}",
    ]
    if baseline:
        stock = baseline["scoped_search"]
        lines.append(
            f"{'mem0 stock default (qdrant local mode)':<40} {stock['n']:>5} "
            f"{stock['p50_ms']:>10.2f} {stock['p99_ms']:>10.2f}"
        )
        p50, p99 = ratio(stock, cubby, "p50_ms"), ratio(stock, cubby, "p99_ms")
        lines.append(f"ratio (stock / Cubby): p50 {p50}x, p99 {p99}x")
    else:
        lines.append("baseline skipped (--baseline-samples 0)")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300, help="searches on Cubby's store")
    parser.add_argument("--baseline-samples", type=int, default=20, help="searches on the stock store")
    parser.add_argument("--pool", type=int, default=4096, help="distinct, really-embedded memory texts")
    parser.add_argument("--query-pool", type=int, default=512)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"scratch space (default: {DEFAULT_DATA_DIR})"
    )
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def main(argv: list[str] | None = None) -> int:
    print(render(measure(_parser().parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

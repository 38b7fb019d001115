"""The full benchmark (issue 8), in one run:

    python -m bench.run                                  # 10K people, about 5 minutes
    python -m bench.run --users 10000,100000,1000000     # 1M: ~27 GB under --data-dir, ~20+ minutes
    python -m bench.run --install-size                   # also measure a fresh default install

1. Embeds a pool of distinct realistic texts with the real model (cached between runs).
2. Seeds Cubby's SQLite store in bulk, person by person, up to each N of ``--users`` and measures the
   store-level per-user search there (p50/p99, ratio to 10K, disk per memory).
3. On the largest store: cold start to ready and resident memory (a fresh process), end-to-end recall
   (embed + search + reply text), throughput with ``--concurrency`` people (recalls, remembers),
   then a mixed load while slash commands go through the Slack and Discord adapters (when present).
4. mem0's stock default store (qdrant local mode) with the same people, in its own process.
   Then the growth table (``--growth``): one person at 10 / 100 / 1,000 / 5,000 / 50,000 memories,
   /recall end to end, keyword scoring, get_all and /export.
5. Three Slack HTTP workers on one store (``--workers``; ``--workers-postgres`` adds PostgreSQL):
   retries spread over the workers answered once, an installation shared, the shared dedupe's cost.
6. Writes ``<results>/<date>.json``, ``<date>.md`` and PNG plots; prints pass/short per target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import shutil
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench import SCRATCH, multilingual, sealed
from bench.perf import baseline_qdrant, heavy, heavy_report, profile, report
from bench.perf.ack import AckSampler, after_stop, available_probes
from bench.perf.coldstart import measure_cold_start
from bench.perf.corpus import Corpus, Pool, build_pool
from bench.perf.install import measure_install
from bench.perf.latency import recall_latencies, store_latencies, store_latencies_beside, warm_up
from bench.perf.load import run_load
from bench.perf.seed import STORE_FILE, close_store, copy_store, open_store, real_payload_keys, seed
from bench.perf.stats import cpu_count, peak_rss_mb, progress_bar, rss_mb, sqlite_bytes, summary
from bench.perf.targets import TEN_K
from bench.perf.workers import run_workers
from bench.perf.workload import FreshTexts, search_workload
from core import Settings, load_settings, open_hub
from core.memory.embedding import shared_encoder
from core.memory.stores.sqlite import SQLiteVectorStore

ROOT = Path(__file__).resolve().parent.parent


def _machine(load_before: tuple[float, ...]) -> dict[str, Any]:
    return {
        "cpus": cpu_count(),
        "cpu": heavy_report.cpu(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def _embedding_latency(texts: FreshTexts, samples: int) -> dict[str, Any]:
    encoder = shared_encoder()
    seconds = []
    for _ in range(samples):
        text = texts.query()
        started = time.perf_counter()
        encoder.encode([text])
        seconds.append(time.perf_counter() - started)
    return summary(seconds)


class Bench:
    def __init__(self, options: argparse.Namespace) -> None:
        self.o = options
        self.store_dir = options.data_dir / "cubby"
        self.settings: Settings = load_settings(data_dir=self.store_dir)
        self.result: dict[str, Any] = {"store": [], "notes": []}
        self.texts = FreshTexts(options.seed, used_queries=options.e2e_samples, used_memories=options.pool)

    def bar(self, total: int, what: str) -> Any:
        return progress_bar(total, what, self.o.progress)

    # -- 1 and 2: the pool, seeding, store-level search at each N ---------------------------------
    def pool(self) -> Pool:
        with self.bar(self.o.pool + self.o.query_pool, "embedding the text pool (real model)") as advance:
            return build_pool(
                self.o.pool, self.o.query_pool, self.o.seed, self.o.data_dir.parent / "pool-cache", advance
            )

    async def check_payload_shape(self, corpus: Corpus) -> None:
        real = await real_payload_keys(load_settings(data_dir=self.o.data_dir / "shape-probe"))
        seeded = set(next(corpus.rows(0, 1)).payloads[0])
        self.result["payload_shape_matches_real_add"] = real == seeded
        if real != seeded:
            self.result["notes"].append(
                f"seeded payload keys differ from a real add: {sorted(real ^ seeded)}"
            )

    def seed_and_probe(self, corpus: Corpus, checkpoints: list[int]) -> None:
        shutil.rmtree(self.store_dir, ignore_errors=True)
        store = open_store(self.store_dir)
        reference: SQLiteVectorStore | None = None  # a copy of a smaller store, timed beside larger ones
        try:
            done = 0  # people are seeded in order, each checkpoint extends the same store
            for people in checkpoints:
                started = time.perf_counter()
                with self.bar(people - done, f"seeding Cubby's store to {people:,} people") as advance:
                    seed(store, corpus, done, people, advance)
                seconds = time.perf_counter() - started
                done = people
                point = self._probe(store, corpus.pool, people, reference)
                point["seed_seconds"] = round(seconds, 1)
                self.result["store"].append(point)
                if people == self.o.baseline_users:
                    asyncio.run(self.cubby_at_baseline_size(point))
                if people == self.o.reference_users and checkpoints[-1] > people:
                    copy_store(self.store_dir, self.o.data_dir / "cubby-reference")
                    reference = open_store(self.o.data_dir / "cubby-reference")
        finally:
            close_store(store)
            if reference is not None:
                close_store(reference)
        at_10k = next((p for p in self.result["store"] if p["people"] == TEN_K), None)
        for point in self.result["store"]:
            if at_10k is None:
                point["p50_vs_10k"] = None
                continue
            alone = round(point["search"]["p50_ms"] / at_10k["search"]["p50_ms"], 3)
            beside = point.get("reference_beside")
            point["p50_vs_10k_phases_apart"] = alone
            if beside and beside["people"] == TEN_K:
                point["p50_vs_10k"] = round(point["search"]["p50_ms"] / beside["p50_ms"], 3)
            else:
                point["p50_vs_10k"] = alone

    def _probe(
        self, store: SQLiteVectorStore, pool: Pool, people: int, reference: SQLiteVectorStore | None
    ) -> dict[str, Any]:
        """The store's search figures at ``people``; with the copy at ``--reference-users``, that
        copy is timed in the same minutes (alternating blocks), and the ratio is of those two."""
        o = self.o
        point: dict[str, Any] = {"people": people, "rows": store.col_info()["count"]}
        if reference is None:
            latencies, empty, read_kb = store_latencies(store, pool, people, o.store_samples, o.seed)
        else:
            latencies, empty, read_kb, beside = store_latencies_beside(
                store, people, reference, o.reference_users, pool, o.store_samples, o.seed
            )
            point["reference_beside"] = {"people": o.reference_users, **summary(beside)}
        point |= {
            "search": summary(latencies),
            "empty_results": empty,
            "storage_read_kb_per_search": read_kb,
            "bytes_per_memory": round(sqlite_bytes(self.store_dir / STORE_FILE) / point["rows"], 1),
        }
        return point

    async def cubby_at_baseline_size(self, point: dict[str, Any]) -> None:
        async with open_hub(settings=self.settings) as hub:
            await warm_up(hub)
            workload = search_workload(self.o.e2e_samples, point["people"], self.o.seed)
            scoped = summary(await recall_latencies(hub, workload, format_reply=False))
        self.result["cubby_at_baseline"] = {
            "people": point["people"],
            "store": point["search"],
            "scoped": scoped,
        }

    # -- 3: through Cubby, on the largest store ---------------------------------------------------
    async def through_cubby(self, population: int) -> None:
        o = self.o
        async with open_hub(settings=self.settings) as hub:
            await warm_up(hub)
            workload = search_workload(o.e2e_samples, population, o.seed)
            self.result["recall_end_to_end"] = summary(
                await recall_latencies(hub, workload, format_reply=True)
            )
            self.result["embedding"] = _embedding_latency(self.texts, min(o.e2e_samples, 200))
            throughput: dict[str, Any] = {}
            load = {
                "population": population,
                "concurrency": o.concurrency,
                "seconds": o.duration,
                "texts": self.texts,
            }
            for phase, share in (("recall", 1.0), ("remember", 0.0)):
                samples = o.results_dir / f"{o.name}-{phase}.pyspy.txt"
                sampler = profile.start(samples, o.duration) if o.profile else None
                throughput[phase] = await run_load(
                    hub, recall_share=share, seed=o.seed + len(throughput), **load
                )
                if o.profile:
                    self.result.setdefault("profile", {})[phase] = profile.finish(sampler, samples)
            probes, skipped = available_probes(self.settings, o.adapters)
            self.result["ack"] = {"skipped": skipped}
            if probes:
                for probe in probes:
                    await probe.start(hub)
                sampler = AckSampler(probes, population, self.texts, o.ack_interval)
                mixed = await run_load(hub, recall_share=0.5, seed=o.seed + 9, alongside=sampler, **load)
                acks = mixed.pop("alongside")
                for probe in probes:
                    await probe.stop()
                    self.result["ack"][probe.name] = after_stop(probe, acks[probe.name])
                throughput["mixed"] = mixed
            self.result["throughput"] = throughput
            self.result["rss"] = {"after_load_mb": rss_mb(), "peak_mb": peak_rss_mb()}

    # -- 4: the baseline ----------------------------------------------------------------------------
    def baseline(self) -> None:
        o = self.o
        arguments = [
            f"--data-dir={o.data_dir / 'qdrant'}",
            f"--cache-dir={o.data_dir.parent / 'pool-cache'}",
            f"--people={o.baseline_users}",
            f"--pool={o.pool}",
            f"--query-pool={o.query_pool}",
            f"--seed={o.seed}",
            f"--store-samples={o.baseline_samples}",
            f"--scoped-samples={o.baseline_samples}",
            *(["--progress"] if o.progress else []),
        ]
        self.result["baseline"] = baseline_qdrant.run_in_subprocess(arguments)

    # -- the whole run ----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        o = self.o
        load_before = os.getloadavg()
        checkpoints = sorted(set(o.users) | ({o.baseline_users} if o.baseline_users else set()))
        pool = self.pool()
        corpus = Corpus(pool, o.seed)
        asyncio.run(self.check_payload_shape(corpus))
        self.seed_and_probe(corpus, checkpoints)
        largest = checkpoints[-1]
        self.result["cold_start"] = measure_cold_start(self.store_dir, largest, o.seed)
        asyncio.run(self.through_cubby(largest))
        if not o.keep_data:
            # Done with: deleted now, its pages leave the page cache at once. Left on disk, the 1M
            # store's 12 GB are reclaimed by the kernel over the next minutes, beside what is timed.
            for store_dir in (self.store_dir, o.data_dir / "cubby-reference"):
                shutil.rmtree(store_dir, ignore_errors=True)
        if o.growth:
            growth_settings = load_settings(data_dir=o.data_dir / "growth")
            self.result["growth"] = asyncio.run(
                heavy.measure(growth_settings, pool, o.growth, o.growth_samples, o.seed)
            )
        if o.baseline_users:
            self.baseline()
        if o.sealed_samples:
            self.result["sealed_vs_plain"] = sealed.measure_in(
                o.data_dir / "sealed", o.sealed_samples, o.seed
            )
        if o.install_size:
            self.result["install"] = measure_install(o.data_dir)
        if o.workers:
            self.result["workers"] = run_workers(
                o.data_dir / "workers", count=o.workers, events=o.worker_events, samples=o.worker_samples,
                postgres=o.workers_postgres,
            )  # fmt: skip
        self.result["machine"] = _machine(load_before)
        self.result["notes"] += [
            f"seeding: rows inserted in bulk through SQLiteVectorStore.insert; each row is one of {o.pool:,} "
            "distinct texts embedded with the real model, so rows share vectors across people",
            "every query and every new memory in the timed parts is a distinct text: no embedding-cache hits",
            f"load: {o.concurrency} people, {o.duration:g} s per phase, one event loop, the hub's threads",
        ]
        return self.result


def _users(text: str) -> list[int]:
    return sorted({int(part.replace("_", "").strip()) for part in text.split(",") if part.strip()})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--users", type=_users, default=[10_000], help="comma-separated N, e.g. 10000,100000,1000000")
    add(
        "--data-dir",
        type=Path,
        default=SCRATCH / "run",
        help=f"scratch space, deleted after (default: {SCRATCH / 'run'})",
    )
    add("--results-dir", type=Path, default=ROOT / "bench" / "results")
    add("--name", default=None, help="result file name (default: today's date)")
    add("--pool", type=int, default=4096, help="distinct really-embedded memory texts")
    add("--query-pool", type=int, default=512)
    add("--store-samples", type=int, default=5000, help="store-level searches per N")
    add(
        "--reference-users",
        type=int,
        default=10_000,
        help="a copy of the store at this N is timed beside every larger N, in the same minutes",
    )
    add("--e2e-samples", type=int, default=300, help="end-to-end recalls, one at a time")
    add("--concurrency", type=int, default=200, help="simultaneous people in the load phases")
    add("--duration", type=float, default=10.0, help="seconds per load phase")
    add("--adapters", type=lambda s: [a for a in s.split(",") if a], default=["slack", "discord"])
    add("--ack-interval", type=float, default=0.1, help="seconds between slash commands per adapter")
    add("--baseline-users", type=int, default=10_000, help="people in the stock-store baseline (0: skip)")
    add("--baseline-samples", type=int, default=20, help="searches on the stock store (~1 s each at 10K)")
    add("--sealed-samples", type=int, default=150, help="ScopedMemory ops, sealed vs unencrypted (0: skip)")
    add("--install-size", action="store_true", help="measure a fresh default install (needs the index)")
    add("--profile", action="store_true", help="sample the load phases with py-spy (raw files in results)")
    add("--workers", type=int, default=3, help="Slack HTTP workers on one store (0: skip that part)")
    add("--worker-events", type=int, default=100, help="events, each delivered to every worker")
    add("--worker-samples", type=int, default=1000, help="timed claims, lookups and acks per figure")
    add("--workers-postgres", action="store_true", help="also run the workers on a throwaway PostgreSQL")
    add("--growth", type=_users, default=list(heavy.SIZES), help="one person's memory counts ('' to skip)")
    add("--growth-samples", type=int, default=30, help="recalls per size in the growth table")
    add("--multilingual", action="store_true", help="also run bench.multilingual (both embedding models)")
    add("--seed", type=int, default=7)
    add("--keep-data", action="store_true")
    add("--no-progress", dest="progress", action="store_false")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    options.name = options.name or date.today().isoformat()
    options.results_dir.mkdir(parents=True, exist_ok=True)
    if options.baseline_users and options.baseline_users > max(options.users):
        options.baseline_users = max(options.users)
    print(f"scratch space: {options.data_dir} (text-pool cache: {options.data_dir.parent / 'pool-cache'})")
    bench = Bench(options)
    try:
        result = bench.run()
    finally:
        if not options.keep_data:
            shutil.rmtree(options.data_dir, ignore_errors=True)
    result["name"] = options.name
    result["command"] = "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    verdicts, files = report.write(result, options.results_dir)
    width = max(len(v.target) for v in verdicts)
    for verdict in verdicts:
        print(f"{verdict.status:>5}  {verdict.target:<{width}}  {verdict.measured:>12}  {verdict.note}")
    print("wrote " + ", ".join(str(f) for f in files))
    if options.multilingual:
        return multilingual.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())

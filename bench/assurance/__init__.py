"""Cubby's assurance benchmark (issue 6): one line per guarantee with its figure, from the real stack
(real mem0, SQLite store, embedding model, slack-bolt and discord.py over real sockets to fakes).

    python -m bench.assurance            # the full figures (about half an hour on 2 shared CPUs)
    python -m bench.assurance --quick    # the same checks at small counts (a minute or two)

Checks, in order: isolation, concurrency, bad input, durability, erasure, barrier (the forget
barrier, reader snapshots and the embedding cache), logs (every log line of the run). Each uses
its own data dir in a scratch run dir; the figures go to
``bench/results/assurance-<date>.json``. Exit code 0 when every guarantee held. ``--seed`` makes a
run reproducible.
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
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.assurance.badinput import breakdown, check_bad_input
from bench.assurance.barrier import check_barrier
from bench.assurance.concurrency import check_concurrency
from bench.assurance.durability import check_durability
from bench.assurance.erasure import check_erasure
from bench.assurance.isolation import check_isolation
from bench.assurance.logs import check_logs
from bench.assurance.report import LOG_FILE, Figure, stop_watching, watch_logs, write_json
from core import load_settings, open_hub

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("isolation", "concurrency", "bad-input", "durability", "erasure", "barrier", "logs")
ADAPTERS = ("terminal", "slack", "discord")
FULL = {
    "probes": 100_000,
    "people": 240,
    "queries": 1_000,
    "users": 200,
    "ops": 50,
    "operator_people": 4,
    "fuzz_per_command": 10_000,
    "kill_rounds": 20,
    "erasure_people": 200,
    "erasure_memories": 5,
    "barrier_trials": 20,
    "timing_pairs": 60,
}
QUICK = {
    "probes": 5_000,
    "people": 48,
    "queries": 200,
    "users": 40,
    "ops": 20,
    "operator_people": 1,
    "fuzz_per_command": 100,
    "kill_rounds": 3,
    "erasure_people": 40,
    "erasure_memories": 4,
    "barrier_trials": 3,
    "timing_pairs": 20,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.assurance", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="small counts: a smoke run, not figures to publish")
    add("--only", default=",".join(CHECKS), help=f"comma-separated checks to run (of {','.join(CHECKS)})")
    add("--adapters", default=",".join(ADAPTERS), help="adapters to fuzz and drive (those present)")
    add("--seed", type=int, default=2026)
    for name, value in FULL.items():
        add(
            f"--{name.replace('_', '-')}",
            type=int,
            default=None,
            help=f"default {value:,} ({QUICK[name]:,} with --quick)",
        )
    add("--run-dir", type=Path, help="scratch dir for the data dirs and the log file (default: a temp dir)")
    add("--keep", action="store_true", help="keep the run dir afterwards")
    add("--results-dir", type=Path, default=ROOT / "bench" / "results")
    add("--name", help="results file name without .json (default assurance-<date>[-quick])")
    return parser


def _counts(options: argparse.Namespace) -> dict[str, int]:
    defaults = QUICK if options.quick else FULL
    return {name: getattr(options, name) or value for name, value in defaults.items()}


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


async def run_checks(
    options: argparse.Namespace, run_dir: Path, say: Callable[[str], None] = print
) -> list[Figure]:
    counts = _counts(options)
    wanted = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(wanted) - set(CHECKS)
    if unknown:
        raise SystemExit(f"unknown checks: {', '.join(sorted(unknown))} (choose from {', '.join(CHECKS)})")
    adapters = [name.strip() for name in options.adapters.split(",") if name.strip()]
    if set(adapters) - set(ADAPTERS):
        raise SystemExit(f"unknown adapters: {options.adapters} (choose from {', '.join(ADAPTERS)})")
    seed = options.seed
    watch, log_handler = watch_logs(run_dir)

    def settings_for(check: str) -> Any:
        return load_settings(data_dir=run_dir / check)

    async def isolation() -> Figure:
        async with open_hub(settings=settings_for("isolation")) as hub:
            return await check_isolation(
                hub, probes=counts["probes"], people=counts["people"], queries=counts["queries"], seed=seed
            )

    async def bad_input() -> Figure:
        settings = settings_for("bad-input")
        async with open_hub(settings=settings) as hub:
            return await check_bad_input(
                hub, settings, per_command=counts["fuzz_per_command"], seed=seed, adapters=adapters
            )

    checks: dict[str, Callable[[], Awaitable[Figure]]] = {
        "isolation": isolation,
        "concurrency": lambda: check_concurrency(
            settings_for("concurrency"),
            people=counts["users"],
            operations=counts["ops"],
            operator_people=counts["operator_people"],
            seed=seed,
            watch=watch,
        ),
        "bad-input": bad_input,
        "durability": lambda: check_durability(
            run_dir / "durability", rounds=counts["kill_rounds"], seed=seed, watch=watch
        ),
        "erasure": lambda: check_erasure(
            settings_for("erasure"),
            run_dir / LOG_FILE,
            people=counts["erasure_people"],
            memories_each=counts["erasure_memories"],
            seed=seed,
        ),
        "barrier": lambda: check_barrier(
            settings_for,
            trials=counts["barrier_trials"],
            timing_trials=counts["timing_pairs"],
            seed=seed,
        ),
        "logs": lambda: check_logs(
            settings_for("logs"), watch, run_dir / LOG_FILE, adapters=adapters, seed=seed
        ),
    }
    figures = []
    try:
        for name in (check for check in CHECKS if check in wanted):
            figure = await checks[name]()
            figures.append(figure)
            say(figure.line())
            if name == "bad-input":
                for line in breakdown(figure):
                    say(line)
    finally:
        stop_watching(watch, log_handler)
    return figures


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    run_dir = options.run_dir or Path(tempfile.mkdtemp(prefix="cubby-assurance-"))
    command = "python -m bench.assurance " + shlex.join(argv if argv is not None else sys.argv[1:])
    print(f"# {command.strip()}  (seed {options.seed}, {os.cpu_count()} CPUs, run dir {run_dir})")
    started = time.perf_counter()
    try:
        figures = asyncio.run(run_checks(options, run_dir))
    finally:
        if not options.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    passed = all(figure.passed for figure in figures)
    seconds = time.perf_counter() - started
    name = options.name or f"assurance-{date.today().isoformat()}" + ("-quick" if options.quick else "")
    path = options.results_dir / f"{name}.json"
    write_json(
        path,
        {
            "command": command.strip(),
            "date": date.today().isoformat(),
            "seed": options.seed,
            "quick": options.quick,
            "counts": _counts(options),
            "machine": _machine(),
            "seconds": round(seconds, 1),
            "passed": passed,
            "figures": [figure.to_dict() for figure in figures],
        },
    )
    print(f"{'ALL PASS' if passed else 'SOME FAILED'} in {seconds:,.0f} s; figures in {path}")
    return 0 if passed else 1

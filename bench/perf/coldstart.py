"""Cold start to ready, where its time goes, and the resident memory of a serving process.

The parent starts ``python -m bench.perf.coldstart --child <data dir> ...`` and times it from spawn
until the child says it is ready: the interpreter started, Cubby imported, the hub opened on the
seeded store (mem0 imported, the model loaded and verified, the store and keys opened) and a first
search answered. The child then serves a few hundred searches and reports its resident memory.
"Cold" is the process, not the OS page cache.

The child also reports phases, each as (start, end) seconds from spawn, by wrapping the functions
the hub's opening calls (bench code only: Cubby's code is not changed for it). Some phases overlap
on purpose - the model loads on its own thread while mem0 is imported - so they do not add up.

``python -m bench.perf.coldstart --people 10000 --runs 5`` seeds a store (once, kept in ``--store``)
and prints the median of each figure over the runs, and of the real entry point, ``cubby chat``, from
spawn to its greeting and to its first answer on the same store. ``--against DIR`` times another
checkout (``git worktree add DIR main``) in turns with this one and prints the ratios.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import SCRATCH

_SEARCHES_AFTER_READY = 200
ROOT = Path(__file__).resolve().parents[2]


def measure_cold_start(data_dir: Path, population: int, seed: int) -> dict[str, Any]:
    spawned_at = time.time()
    spawned = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.perf.coldstart", "--child", str(data_dir), str(population), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    ready_line = child.stdout.readline()
    ready = time.perf_counter() - spawned
    rest = child.stdout.read()
    if child.wait() != 0 or not ready_line:
        raise RuntimeError(f"the cold-start child failed (exit {child.returncode})")
    report = json.loads(ready_line) | json.loads(rest.strip().splitlines()[-1])
    # The child stamps its phases on the wall clock; here they become seconds from spawn.
    phases = {name: [round(at - spawned_at, 3) for at in span] for name, span in report.pop("phases").items()}
    phases["interpreter start"][0] = 0.0  # from spawn, which the child cannot see
    return {"ready_s": round(ready, 3), **report, "phases": phases}


def ready_in(tree: Path, data_dir: Path, population: int, seed: int) -> float:
    """Ready of another checkout of Cubby (``--against``), timed by that checkout's own
    :func:`measure_cold_start` (so an older one, without phases, works too)."""
    code = (
        "import json, sys; from pathlib import Path; from bench.perf.coldstart import measure_cold_start; "
        "print(json.dumps(measure_cold_start(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir), str(population), str(seed)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["ready_s"])


def measure_chat_ready(data_dir: Path, user: str = "coldstart", tree: Path | None = None) -> dict[str, float]:
    """The real entry point, ``cubby chat``, on the same store: seconds from spawn to its greeting (the
    terminal's "connected": the hub is open and it waits for a line) and to the answer of a first
    ``/recall``. Without an LLM, as a bot without ``OPENAI_API_KEY`` starts. ``tree``: run the code of
    another checkout instead of this one."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CUBBY_"))}
    environment |= {"CUBBY_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)
    cubby = Path(sys.executable).with_name("cubby")
    spawned = time.perf_counter()
    child = subprocess.Popen(
        [str(cubby), "chat", "--user", user],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    assert child.stdin is not None and child.stdout is not None
    greeted = answered = None
    shown = ""  # the prompt "> " comes without a newline: read what arrives, not lines
    while answered is None and (chunk := os.read(child.stdout.fileno(), 65536).decode()):
        shown += chunk
        if not shown.endswith("> "):
            continue
        if greeted is None:
            greeted = time.perf_counter() - spawned
            shown = ""
            child.stdin.write("/recall dentist appointment\n/quit\n")
            child.stdin.flush()
        else:
            answered = time.perf_counter() - spawned
    child.stdin.close()
    child.stdout.read()
    if child.wait(timeout=60) != 0 or greeted is None or answered is None:
        raise RuntimeError(f"cubby chat failed (exit {child.returncode})")
    return {"chat_ready_s": round(greeted, 3), "chat_first_answer_s": round(answered, 3)}


class _Phases:
    """(start, end) wall-clock stamps of named calls, from whichever thread makes them."""

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}

    def mark(self, name: str, start: float) -> None:
        self.spans[name] = [start, time.time()]

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.time()
            try:
                return original(*args, **kwargs)
            finally:
                self.spans.setdefault(name, [start, time.time()])

        setattr(owner, attribute, timed)


def _time_hub_opening(phases: _Phases) -> None:
    from core.memory import backends, hub, mem0_setup, models

    phases.wrap(mem0_setup, "import_mem0", "import mem0")
    phases.wrap(models, "_load", "model load (own thread)")
    phases.wrap(backends, "require_model", "model stamp check")
    phases.wrap(backends, "open_keyring", "open keys")
    phases.wrap(backends, "build_memory", "build mem0 Memory (imports mem0, waits for the model)")
    phases.wrap(hub, "open_post_store", "open post store")


async def _child(data_dir: Path, population: int, seed: int) -> None:
    started = time.time()
    phases = _Phases()
    from core import UserKey, load_settings, open_hub

    phases.mark("import core", started)
    from bench.perf.stats import kept_store_mb, rss_mb
    from bench.perf.workload import search_workload

    _time_hub_opening(phases)
    opening = time.time()
    async with open_hub(settings=load_settings(data_dir=data_dir)) as hub:
        phases.mark("open hub", opening)
        workload = search_workload(_SEARCHES_AFTER_READY + 1, population, seed + 101)
        searching = time.time()
        await hub.scoped(UserKey.parse(workload[0][0])).search(workload[0][1])
        phases.mark("first search", searching)
        phases.spans["interpreter start"] = [started, started]
        ready = {"rss_ready_mb": rss_mb(), "phases": phases.spans}
        print(json.dumps(ready), flush=True)
        for key, query in workload[1:]:
            await hub.scoped(UserKey.parse(key)).search(query)
        serving = {"rss_serving_mb": rss_mb(), "store_kept_mb": kept_store_mb()}
        print(json.dumps({**serving, "searches_after_ready": len(workload) - 1}), flush=True)


def seeded_store(store: Path, people: int, seed: int, pool_size: int = 4096) -> Path:
    """A store of ``people`` seeded people in ``store`` (made once; a later run reuses it)."""
    from bench.perf.corpus import Corpus, build_pool
    from bench.perf.seed import close_store, open_store
    from bench.perf.seed import seed as seed_rows

    done = store.parent / f"{store.name}.seeded-{people}-{seed}-{pool_size}"
    if not done.exists():
        pool = build_pool(pool_size, 0, seed, store.parent / "pool-cache")  # searches use fresh texts
        opened = open_store(store)
        try:
            seed_rows(opened, Corpus(pool, seed), 0, people, None)
        finally:
            close_store(opened)
        done.touch()
    return store


def table(runs: list[dict[str, Any]]) -> str:
    """The median start, end and length of each phase, and of ready, over ``runs``."""
    lines = ["phase | from s | to s | length s", "--- | --- | --- | ---"]
    names = sorted(runs[0]["phases"], key=lambda name: statistics.median(r["phases"][name][0] for r in runs))
    for name in names:
        starts = [r["phases"][name][0] for r in runs]
        ends = [r["phases"][name][1] for r in runs]
        lengths = [end - start for start, end in zip(starts, ends, strict=True)]
        row = (statistics.median(starts), statistics.median(ends), statistics.median(lengths))
        lines.append(f"{name} | {row[0]:.3f} | {row[1]:.3f} | {row[2]:.3f}")
    ready = [r["ready_s"] for r in runs]
    lines.append(
        f"**ready** (median of {len(runs)}; min {min(ready):.3f}, max {max(ready):.3f}) | 0 | "
        f"{statistics.median(ready):.3f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pool", type=int, default=4096, help="distinct really-embedded memory texts")
    parser.add_argument("--store", type=Path, default=SCRATCH / "coldstart", help="kept between runs")
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout to compare with, in turns on the same store (git worktree add DIR main)",
    )
    options = parser.parse_args(argv)
    store = seeded_store(options.store, options.people, options.seed, options.pool)
    runs: list[dict[str, Any]] = []
    figures: dict[str, list[float]] = {"chat_ready_s": [], "chat_first_answer_s": []}
    if options.against:
        figures |= {"against_ready_s": [], "against_chat_ready_s": []}
    for _ in range(options.runs):  # taking turns, so every figure sees the same machine
        runs.append(measure_cold_start(store, options.people, options.seed))
        for figure, value in measure_chat_ready(store).items():
            figures[figure].append(value)
        if options.against:
            figures["against_ready_s"].append(ready_in(options.against, store, options.people, options.seed))
            chat = measure_chat_ready(store, tree=options.against)
            figures["against_chat_ready_s"].append(chat["chat_ready_s"])
    print(table(runs))
    medians = {figure: statistics.median(values) for figure, values in figures.items()}
    for figure, values in figures.items():
        print(f"{figure}: median {medians[figure]:.3f} (min {min(values):.3f}, max {max(values):.3f})")
    if options.against:
        ready = statistics.median(r["ready_s"] for r in runs)
        print(
            f"against {options.against}: ready {medians['against_ready_s'] / ready:.2f}x as long there, "
            f"cubby chat {medians['against_chat_ready_s'] / medians['chat_ready_s']:.2f}x"
        )
    if options.json:
        options.json.write_text(json.dumps({"hub": runs, **figures}, indent=1))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        import asyncio

        asyncio.run(_child(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    else:
        raise SystemExit(main())

"""What sealing every row with a per-person key costs, measured through ``ScopedMemory`` in one run:
the same people, texts and queries on the sealed store and on today's unencrypted layout
(:mod:`bench.perf.plain_store`), interleaved so both see the same machine load.

    python -m bench.sealed                  # 100 people x 20 memories, one heavy person of 1,000
    python -m bench.sealed --people 20 --memories 5 --heavy 100 --samples 40   # a smoke run

Reports search and add p50/p99 for both and their ratio (target: sealed within 15% of plain),
search for the heavy person (where opening every row costs the most), bytes per memory on disk, and
how many person keys were created and destroyed (with the time a forget takes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.perf.plain_store import NoKeyring
from bench.perf.stats import summary
from bench.perf.texts import memory_texts, query_texts
from core import Hub, Settings, UserKey, load_settings, open_hub
from core.memory.backends.mem0 import Mem0Backend
from core.memory.backends.threaded import ThreadedBackend
from core.memory.embedding import DIMENSIONS
from core.memory.mem0_setup import COLLECTION, build_memory, register_store
from core.memory.stores.sqlite import SQLiteStoreConfig

_PLAIN_PROVIDER = "cubby_plain_bench"


async def open_plain_hub(settings: Settings) -> Hub:
    register_store(settings, _PLAIN_PROVIDER, "bench.perf.plain_store.PlainSQLiteStore")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = SQLiteStoreConfig(
        collection_name=COLLECTION,
        path=str(settings.data_dir / "memories.sqlite3"),
        embedding_model_dims=DIMENSIONS,
    )
    memory = await asyncio.to_thread(build_memory, settings, (_PLAIN_PROVIDER, config))
    backend = Mem0Backend(
        memory,
        keyring=NoKeyring(),  # type: ignore[arg-type]
        max_memories_per_user=settings.max_memories_per_user,
        search_threshold=settings.search_threshold,
    )
    return Hub(ThreadedBackend(backend), settings)


def _bytes_per_memory(hub: Hub, data_dir: Path, rows: int) -> float:
    backend = hub._backend
    assert isinstance(backend, ThreadedBackend)
    backend.inner.store.checkpoint()
    return round((data_dir / "memories.sqlite3").stat().st_size / max(rows, 1), 1)


async def _timed(call: Any) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def measure(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    rng = random.Random(options.seed)
    memories = iter(memory_texts(options.seed))
    queries = iter(query_texts(options.seed))
    people = [UserKey.cli(f"sealed-bench-{i}") for i in range(options.people)]
    heavy = UserKey.cli("sealed-bench-heavy")
    settings = {name: load_settings(data_dir=work / name) for name in ("plain", "sealed")}
    plain = await open_plain_hub(settings["plain"])
    async with open_hub(settings=settings["sealed"]) as sealed:
        hubs = {"plain": plain, "sealed": sealed}
        try:
            for person in [*people, heavy]:
                count = options.heavy if person == heavy else options.memories
                for _ in range(count):
                    text = next(memories)
                    for hub in hubs.values():
                        await hub.scoped(person).add(text)
            seconds: dict[str, dict[str, list[float]]] = {
                name: {"search": [], "add": [], "heavy search": []} for name in hubs
            }
            for sample in range(options.samples):
                order = list(hubs) if sample % 2 else list(reversed(hubs))
                person, query, text = rng.choice(people), next(queries), next(memories)
                heavy_query = next(queries)
                for name in order:
                    memory = hubs[name].scoped(person)
                    seconds[name]["search"].append(await _timed(memory.search(query)))
                    seconds[name]["add"].append(await _timed(memory.add(text)))
                    heavy_search = hubs[name].scoped(heavy).search(heavy_query)
                    seconds[name]["heavy search"].append(await _timed(heavy_search))
            rows = options.people * options.memories + options.heavy + options.samples
            result: dict[str, Any] = {
                name: {op: summary(values) for op, values in ops.items()} for name, ops in seconds.items()
            }
            for name, hub in hubs.items():
                result[name]["bytes_per_memory"] = _bytes_per_memory(hub, work / name, rows)
            result["ratio_sealed_to_plain_p50"] = {
                op: round(result["sealed"][op]["p50_ms"] / result["plain"][op]["p50_ms"], 3)
                for op in ("search", "add", "heavy search")
            }
            forgets = [
                await _timed(sealed.scoped(person).delete_all()) for person in people[: options.forget]
            ]
            keyring = sealed._backend.inner.keyring  # type: ignore[union-attr]
            result["keys"] = {
                "created": keyring.created,
                "destroyed": keyring.destroyed,
                "forget": summary(forgets),
            }
        finally:
            await plain.close()
    return result


def measure_in(work: Path, samples: int, seed: int) -> dict[str, Any]:
    """A smaller run for ``bench.run``: 50 people of 10 memories, one of 500."""
    options = _parser().parse_args(
        [
            "--people=50",
            "--memories=10",
            "--heavy=500",
            f"--samples={samples}",
            "--forget=10",
            f"--seed={seed}",
        ]
    )
    work.mkdir(parents=True, exist_ok=True)
    return asyncio.run(measure(options, work))


def render(result: dict[str, Any]) -> str:
    lines = [f"{'ScopedMemory':<22} {'plain p50':>10} {'sealed p50':>11} {'ratio':>7} {'sealed p99':>11}"]
    for op in ("search", "add", "heavy search"):
        plain, sealed = result["plain"][op], result["sealed"][op]
        ratio = result["ratio_sealed_to_plain_p50"][op]
        lines.append(
            f"{op:<22} {plain['p50_ms']:>10.2f} {sealed['p50_ms']:>11.2f} {ratio:>7.3f} "
            f"{sealed['p99_ms']:>11.2f}"
        )
    lines.append(
        f"bytes per memory on disk: plain {result['plain']['bytes_per_memory']:,.0f}, "
        f"sealed {result['sealed']['bytes_per_memory']:,.0f}"
    )
    keys = result["keys"]
    lines.append(
        f"person keys: {keys['created']} created, {keys['destroyed']} destroyed; "
        f"forget p50 {keys['forget'].get('p50_ms', 0):.2f} ms"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.sealed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--memories", type=int, default=20, help="memories per person")
    parser.add_argument("--heavy", type=int, default=1000, help="memories of the one heavy person")
    parser.add_argument("--samples", type=int, default=200, help="searches and adds on each store")
    parser.add_argument("--forget", type=int, default=20, help="people forgotten at the end")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cubby-sealed-bench-"))
    try:
        result = asyncio.run(measure(options, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(render(result))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cold start to ready, and the resident memory of a serving process.

The parent starts ``python -m bench.perf.coldstart <data dir>`` and times it from spawn until the child
says it is ready: the interpreter started, Cubby and mem0 imported, the hub opened on the seeded store
(model loaded and verified) and a first search answered. The child then serves a few hundred searches
and reports its resident memory. "Cold" is the process, not the OS page cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_SEARCHES_AFTER_READY = 200


def measure_cold_start(data_dir: Path, population: int, seed: int) -> dict[str, Any]:
    spawned = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.perf.coldstart", str(data_dir), str(population), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None
    ready_line = child.stdout.readline()
    ready = time.perf_counter() - spawned
    rest = child.stdout.read()
    if child.wait() != 0 or not ready_line:
        raise RuntimeError(f"the cold-start child failed (exit {child.returncode})")
    report = json.loads(ready_line) | json.loads(rest.strip().splitlines()[-1])
    return {"ready_s": round(ready, 3), **report}


async def _child(data_dir: Path, population: int, seed: int) -> None:
    started = time.perf_counter()
    from bench.perf.stats import rss_mb
    from bench.perf.workload import search_workload
    from core import UserKey, load_settings, open_hub

    imported = time.perf_counter()
    async with open_hub(settings=load_settings(data_dir=data_dir)) as hub:
        opened = time.perf_counter()
        workload = search_workload(_SEARCHES_AFTER_READY + 1, population, seed + 101)
        await hub.scoped(UserKey.parse(workload[0][0])).search(workload[0][1])
        searched = time.perf_counter()
        ready = {
            "child_import_s": round(imported - started, 3),
            "child_open_hub_s": round(opened - imported, 3),
            "child_first_search_s": round(searched - opened, 3),
            "rss_ready_mb": rss_mb(),
        }
        print(json.dumps(ready), flush=True)
        for key, query in workload[1:]:
            await hub.scoped(UserKey.parse(key)).search(query)
        print(json.dumps({"rss_serving_mb": rss_mb(), "searches_after_ready": len(workload) - 1}), flush=True)


if __name__ == "__main__":
    import asyncio

    asyncio.run(_child(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))

"""Small measuring helpers: latency summaries, resident memory, disk usage, progress bars."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def summary(seconds: Iterable[float]) -> dict[str, float | int]:
    """p50 / p99 / mean / max in milliseconds, and the sample count. p99 of fewer than 100 samples is
    close to the max: read it with ``n`` in mind."""
    values = np.asarray(list(seconds), dtype=np.float64) * 1000.0
    if values.size == 0:
        return {"n": 0}
    return {
        "n": int(values.size),
        "p50_ms": round(float(np.percentile(values, 50)), 4),
        "p99_ms": round(float(np.percentile(values, 99)), 4),
        "mean_ms": round(float(values.mean()), 4),
        "max_ms": round(float(values.max()), 4),
    }


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb(pid: int | str = "self") -> float | None:
    """Resident memory now (Linux /proc), not counting the store's files kept mapped in memory
    (:mod:`core.memory.resident`, reported by :func:`kept_store_mb`): those are the page cache's
    own pages of the database, shared by every process that reads it. None without /proc."""
    kib = _status_kib("VmRSS", pid)
    return None if kib is None else round(kib / 1024 - (kept_store_mb(pid) or 0.0), 1)


def kept_store_mb(pid: int | str = "self") -> float | None:
    """Resident pages of the SQLite files this process keeps mapped (the store kept in memory)."""
    try:
        smaps = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return None
    kib, in_store = 0, False
    for line in smaps.splitlines():
        if not line[:1].isupper():  # a mapping's header: address range, ..., path
            in_store = line.rstrip().endswith(".sqlite3")
        elif in_store and line.startswith("Rss:"):
            kib += int(line.split()[1])
    return round(kib / 1024, 1)


def peak_rss_mb(pid: int | str = "self") -> float | None:
    kib = _status_kib("VmHWM", pid)
    return None if kib is None else round(kib / 1024, 1)


def storage_read_bytes() -> int | None:
    """Bytes this process has had read from storage (not from the page cache); Linux only."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def tree_bytes(path: Path) -> int:
    """Bytes used on disk by a file or a folder (allocated blocks, like ``du``)."""
    if path.is_file():
        return path.stat().st_blocks * 512
    return sum(p.lstat().st_blocks * 512 for p in path.rglob("*") if not p.is_symlink())


def sqlite_bytes(database: Path) -> int:
    """The database file plus its WAL and shared-memory files."""
    return sum(
        tree_bytes(p)
        for p in (
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        )
        if p.exists()
    )


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (a no-op when disabled or when tqdm is missing); yields ``advance(n)``."""
    bar: Any = None
    if enabled:
        try:
            from tqdm import tqdm

            bar = tqdm(
                total=total, desc=description, unit="", file=sys.stderr, leave=False, dynamic_ncols=True
            )
        except ImportError:
            print(f"{description}...", file=sys.stderr)
    try:
        yield (bar.update if bar is not None else (lambda _n: None))
    finally:
        if bar is not None:
            bar.close()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

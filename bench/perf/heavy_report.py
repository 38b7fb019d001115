"""The growth table and the machine's CPU in the benchmark report, and the heavy-person targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.perf.targets import Verdict, _check

_EXTENSIONS = {"AVX2": "avx2", "AVX-512": "avx512f", "AVX-512 VNNI": "avx512_vnni", "AVX-VNNI": "avx_vnni"}


def cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """The CPU model and which vector extensions it has (the same command costs very different CPU
    time on different x86-64 generations)."""
    model, flags = "unknown", set()
    try:
        for line in cpuinfo.read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif name.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {"model": model, **{label: flag in flags for label, flag in _EXTENSIONS.items()}}


def cpu_line(machine: dict[str, Any]) -> str:
    found = machine.get("cpu") or {}
    extensions = [label for label in _EXTENSIONS if found.get(label)]
    return f"CPU {found.get('model', 'unknown')} ({', '.join(extensions) or 'no AVX2/AVX-512/VNNI'})."


def _row(table: list[dict[str, Any]] | None, memories: int) -> dict[str, Any]:
    return next((row for row in table or [] if row["memories"] == memories), {})


def verdicts(result: dict[str, Any]) -> list[Verdict]:
    table = result.get("growth")
    note = "" if table else "run with --growth"
    at_5k, at_50k = _row(table, 5_000), _row(table, 50_000)
    largest = max((p for p in result.get("store", [])), key=lambda p: p["people"], default=None)
    return [
        _check("/recall p50 <= 15 ms at 5,000 memories", (at_5k.get("recall_end_to_end") or {}).get("p50_ms"),
               15, at_most=True, unit="ms", note=note),
        _check("/recall p50 <= 40 ms at 50,000 memories",
               (at_50k.get("recall_end_to_end") or {}).get("p50_ms"), 40, at_most=True, unit="ms", note=note),
        _check("export of 5,000 memories <= 100 ms", (at_5k.get("export") or {}).get("p50_ms"), 100,
               at_most=True, unit="ms", note=note),
        _check("<= 900 bytes per memory at rest", largest and largest.get("bytes_per_memory"), 900,
               at_most=True, unit="B", note="whole database file / rows, encryption included"),
    ]  # fmt: skip


def markdown(table: list[dict[str, Any]] | None) -> list[str]:
    if not table:
        return []
    lines = [
        "",
        "## Growth by one person's memory count (p50 / p99 ms)",
        "",
        "| memories | `/recall <words>` end to end | keyword (BM25) scoring | `get_all` | `/export` |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        cells = [
            f"{row[k]['p50_ms']:.2f} / {row[k]['p99_ms']:.2f}"
            for k in ("recall_end_to_end", "keyword_scoring", "get_all", "export")
        ]
        lines.append(f"| {row['memories']:,} | " + " | ".join(cells) + " |")
    return lines

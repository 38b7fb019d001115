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


def _cell(row: dict[str, Any], figure: str) -> str:
    found = row.get(figure)
    return f"{found['p50_ms']:.2f} / {found['p99_ms']:.2f}" if found else "-"


def markdown(table: list[dict[str, Any]] | None) -> list[str]:
    if not table:
        return []
    lines = [
        "",
        "## Growth by one person's memory count (p50 / p99 ms)",
        "",
        "`/recall` with every row opened is the same recall with no held index (how every search ran",
        "before), in the same run; the ratio is of the p50s. `/remember` + `/recall` is one of each in turn.",
        "",
        "| memories | `/recall <words>` end to end | the same, every row opened | ratio "
        "| `/remember` + `/recall` | keyword (BM25) scoring | `/recall` (a page, no words) | `get_all` "
        "| `/export` |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table:
        opened = row.get("recall_opening_every_row")
        ratio = f"{opened['p50_ms'] / row['recall_end_to_end']['p50_ms']:.1f}x" if opened else "-"
        cells = [_cell(row, "recall_end_to_end"), _cell(row, "recall_opening_every_row"), ratio]
        figures = ("remember_then_recall", "keyword_scoring", "recall_a_page", "get_all", "export")
        cells += [_cell(row, k) for k in figures]
        lines.append(f"| {row['memories']:,} | " + " | ".join(cells) + " |")
    return lines

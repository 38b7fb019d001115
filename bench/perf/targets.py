"""Issue 8's targets, checked against a result document: pass, short, or n/a (not measured here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MILLION = 1_000_000
TEN_K = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    measured: str
    status: str  # "pass", "short" or "n/a"
    note: str = ""


def _check(
    target: str, value: float | None, limit: float, *, at_most: bool, unit: str, note: str = ""
) -> Verdict:
    if value is None:
        return Verdict(target, "-", "n/a", note or "not measured in this run")
    passed = value <= limit if at_most else value >= limit
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return Verdict(target, f"{shown} {unit}".strip(), "pass" if passed else "short", note)


def _store_at(result: dict[str, Any], people: int) -> dict[str, Any] | None:
    return next((point for point in result["store"] if point["people"] == people), None)


def _store_targets(result: dict[str, Any]) -> list[Verdict]:
    at_1m, at_10k = _store_at(result, MILLION), _store_at(result, TEN_K)
    largest = max(result["store"], key=lambda p: p["people"]) if result["store"] else None
    note = ""
    if at_1m is None and largest is not None:
        note = (
            f"not run at 1M; at {largest['people']:,}: p50 {largest['search']['p50_ms']:.3f} ms, "
            f"p99 {largest['search']['p99_ms']:.3f} ms"
        )
    ratio = None
    if at_1m and at_10k:  # of the 10K copy timed beside the 1M store, when the run had one
        ratio = at_1m.get("p50_vs_10k") or at_1m["search"]["p50_ms"] / at_10k["search"]["p50_ms"]
    return [
        _check("store p50 <= 0.2 ms at 1M people", at_1m and at_1m["search"]["p50_ms"], 0.2,
               at_most=True, unit="ms", note=note),
        _check("store p99 <= 2 ms at 1M people", at_1m and at_1m["search"]["p99_ms"], 2.0,
               at_most=True, unit="ms", note=note),
        _check("store p50(1M) / p50(10K) <= 1.5", ratio, 1.5, at_most=True, unit="x",
               note=_ratio_note(at_1m) if ratio else "needs both 10K and 1M in --users"),
    ]  # fmt: skip


def _ratio_note(at_1m: dict[str, Any] | None) -> str:
    beside = (at_1m or {}).get("reference_beside")
    if not at_1m or not beside or beside["people"] != TEN_K:
        return "10K measured in its own phase"
    return (
        f"10K copy timed in the same minutes: p50 {beside['p50_ms']:.3f} ms; "
        f"against the 10K phase: {at_1m['p50_vs_10k_phases_apart']:.2f}x"
    )


def _load_note(phase: dict[str, Any], result: dict[str, Any]) -> str:
    if not phase.get("people"):
        return ""
    note = f"{phase['people']} concurrent people, {result['machine']['cpus']} shared CPUs"
    if phase.get("rate_if_cores_were_dedicated"):
        note += f"; ~{phase['rate_if_cores_were_dedicated']:,.0f}/s from CPU time if not shared"
    return note


def evaluate(result: dict[str, Any]) -> list[Verdict]:
    verdicts = _store_targets(result)
    recall = result.get("recall_end_to_end") or {}
    verdicts.append(
        _check("end-to-end recall p50 <= 10 ms", recall.get("p50_ms"), 10.0, at_most=True, unit="ms")
    )
    throughput = result.get("throughput") or {}
    recalls, remembers = throughput.get("recall") or {}, throughput.get("remember") or {}
    verdicts.append(_check(">= 300 recalls/s per process", recalls.get("recalls_per_s"), 300, at_most=False,
                           unit="/s", note=_load_note(recalls, result)))  # fmt: skip
    verdicts.append(_check(">= 150 remembers/s per process", remembers.get("remembers_per_s"), 150,
                           at_most=False, unit="/s", note=_load_note(remembers, result)))  # fmt: skip
    errors = [phase.get("errors") for phase in throughput.values() if phase]
    verdicts.append(_check("0 errors under load", sum(errors) if errors else None, 0, at_most=True, unit=""))
    acks = result.get("ack") or {}
    for platform in ("slack", "discord"):
        figures = acks.get(platform)
        if isinstance(figures, dict) and "ack" in figures:
            value = figures["ack"].get("p99_ms")
            verdicts.append(
                _check(f"{platform} ack p99 <= 100 ms under load", value, 100, at_most=True, unit="ms")
            )
        else:
            reason = (acks.get("skipped") or {}).get(platform, "not measured in this run")
            verdicts.append(Verdict(f"{platform} ack p99 <= 100 ms under load", "-", "n/a", reason))
    sealed = (result.get("sealed_vs_plain") or {}).get("ratio_sealed_to_plain_p50") or {}
    for op in ("search", "add"):
        verdicts.append(_check(f"sealed {op} p50 <= 1.15x unencrypted", sealed.get(op), 1.15, at_most=True,
                               unit="x", note="" if sealed else "run with --sealed-samples > 0"))  # fmt: skip
    cold = result.get("cold_start") or {}
    verdicts.append(_check("ready <= 2 s", cold.get("ready_s"), 2.0, at_most=True, unit="s"))
    install = result.get("install") or {}
    verdicts.append(_check("default install <= 400 MB", install.get("venv_mb"), 400, at_most=True, unit="MB",
                           note="" if install else "run with --install-size"))  # fmt: skip
    from bench.perf import heavy_report, workers_report  # they build on Verdict, defined here

    verdicts += heavy_report.verdicts(result)
    verdicts += workers_report.verdicts(result.get("workers"))
    return verdicts

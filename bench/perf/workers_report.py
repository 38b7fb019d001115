"""The many-workers part of a bench report: its targets and its table (figures from
:mod:`bench.perf.workers`, one column per backend)."""

from __future__ import annotations

from typing import Any

from bench.perf.targets import Verdict

PHASES = (("retries", "retries, each delivery to another worker"), ("racing", "all deliveries at once"))


def _measured(workers: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    return [(name, figures) for name, figures in (workers or {}).items() if "skipped" not in figures]


def verdicts(workers: dict[str, Any] | None) -> list[Verdict]:
    runs = _measured(workers)
    once = "each event answered once by 3 workers"
    shared = "an installation made on one worker serves every worker"
    if not runs:
        return [Verdict(once, "-", "n/a", "run without --workers 0"), Verdict(shared, "-", "n/a")]
    wrong = sum(f[p]["duplicate_answers"] + f[p]["unanswered"] for _, f in runs for p, _ in PHASES)
    retries = sum(f[p]["retries"] for _, f in runs for p, _ in PHASES)
    served = [f"{name} {f['install']['served_by']} of {f['install']['of']}" for name, f in runs]
    all_served = all(f["install"]["served_by"] == f["install"]["of"] for _, f in runs)
    backends = ", ".join(name for name, _ in runs)
    return [
        Verdict(once, f"{wrong} wrong of {retries:,} retries", "pass" if wrong == 0 else "short", backends),
        Verdict(shared, "; ".join(served), "pass" if all_served else "short", backends),
    ]


def _ms(figures: dict[str, Any] | None) -> str:
    if not figures or not figures.get("n"):
        return "-"
    return f"{figures['p50_ms']:.3f} / {figures['p99_ms']:.3f}"


def _rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) for one backend's run."""
    rows = [
        (
            "installed through worker 1: workers serving it",
            f"{f['install']['served_by']} of {f['install']['of']}",
        )
    ]
    for phase, label in PHASES:
        p = f[phase]
        rows.append(
            (
                f"{label}: answered once / duplicate answers / unanswered",
                f"{p['answered_once']} / {p['duplicate_answers']} / {p['unanswered']} "
                f"({p['events']} events, {p['retries']} retries)",
            )
        )
    rows.append(("ack of a retry while the workers answer, p50 / p99 ms", _ms(f["retries"].get("retry_ack"))))
    claim = f["claim"]
    for kind in ("first_delivery", "repeated_delivery"):
        rows.append(
            (
                f"claim an event id ({kind.replace('_', ' ')}), p50 / p99 ms: shared (in memory)",
                f"{_ms(claim['shared'][kind])} ({_ms(claim['in_memory'][kind])})",
            )
        )
    lookup, ack = f["installation_lookup"], f["retry_ack"]
    rows.append(
        (
            "find the installation (every request), p50 / p99 ms: shared (in memory)",
            f"{_ms(lookup['shared'])} ({_ms(lookup['in_memory'])})",
        )
    )
    rows.append(
        (
            "ack of a repeated delivery, idle worker, p50 / p99 ms: shared (in memory); p50 overhead",
            f"{_ms(ack['shared'])} ({_ms(ack['in_memory'])}); {ack['overhead_p50_ms']:+.3f} ms",
        )
    )
    return rows


def markdown(workers: dict[str, Any] | None) -> list[str]:
    runs = _measured(workers)
    if not workers:
        return []
    lines = [
        "",
        "## Many workers on one store",
        "",
        "Three Slack HTTP workers (each its own Bolt app, hub and shared-state connection) on one data dir "
        "or one PostgreSQL database. In memory: the same code with the shared state's table in the "
        "process's memory, as one worker alone could keep it.",
        "",
    ]
    lines += [f"{name}: skipped ({f['skipped']})" for name, f in workers.items() if "skipped" in f]
    if not runs:
        return lines
    table = [_rows(f) for _, f in runs]
    lines += ["| figure | " + " | ".join(name for name, _ in runs) + " |", "|---|" + "---|" * len(runs)]
    for index, (label, _) in enumerate(table[0]):
        lines.append(f"| {label} | " + " | ".join(rows[index][1] for rows in table) + " |")
    return lines

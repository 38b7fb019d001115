"""Writing a run's results: ``<name>.json`` (everything), ``<name>.md`` (the tables) and two PNG plots
(latency vs people, throughput). Plots need matplotlib (the ``bench`` extra); without it the report
says so and the rest is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.perf import heavy_report, workers_report
from bench.perf.targets import Verdict, evaluate


def _plot_latency(result: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    points = sorted(result["store"], key=lambda p: p["people"])
    people = [p["people"] for p in points]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    axes.plot(people, [p["search"]["p50_ms"] for p in points], "o-", label="Cubby store p50")
    axes.plot(people, [p["search"]["p99_ms"] for p in points], "s--", label="Cubby store p99")
    baseline = result.get("baseline")
    if baseline and baseline.get("store_search", {}).get("n"):
        axes.plot([baseline["people"]], [baseline["store_search"]["p50_ms"]], "rX", markersize=10,
                  label="mem0 stock store (qdrant local) p50")  # fmt: skip
    axes.axhline(0.2, color="green", linestyle=":", label="target p50 at 1M (0.2 ms)")
    axes.axhline(2.0, color="orange", linestyle=":", label="target p99 at 1M (2 ms)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("people in the store")
    axes.set_ylabel("per-user top-5 search (ms)")
    axes.set_title("Store-level search latency vs people")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plot_throughput(result: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    throughput = result.get("throughput") or {}
    labels, values, targets, dedicated = [], [], [], []
    for phase, field, target in (("recall", "recalls_per_s", 300), ("remember", "remembers_per_s", 150)):
        if throughput.get(phase):
            labels.append(f"{phase}s/s")
            values.append(throughput[phase][field])
            targets.append(target)
            dedicated.append(throughput[phase].get("rate_if_cores_were_dedicated") or float("nan"))
    figure, axes = plt.subplots(figsize=(5.5, 4.2))
    bars = axes.bar(labels, values, color=["#4c72b0", "#55a868"][: len(values)])
    for bar, target in zip(bars, targets, strict=True):
        axes.hlines(target, bar.get_x(), bar.get_x() + bar.get_width(), colors="red", linestyles="--")
    axes.bar_label(bars, fmt="%.0f")
    axes.plot(labels, dedicated, "k^", label="from CPU time: cores not shared")
    axes.legend(fontsize=8, loc="lower right")
    people = (throughput.get("recall") or throughput.get("remember") or {}).get("people", "?")
    axes.set_title(f"Throughput, {people} concurrent people, one process (red: target)")
    axes.set_ylabel("operations per second")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _kb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} KB"


def _ms(summary: dict[str, Any] | None) -> str:
    if not summary or not summary.get("n"):
        return "-"
    return f"{summary['p50_ms']:.3f} / {summary['p99_ms']:.3f} (n={summary['n']:,})"


def markdown(result: dict[str, Any], verdicts: list[Verdict], plots: list[str]) -> str:
    machine = result["machine"]
    lines = [
        f"# Cubby benchmark {result['name']}",
        "",
        f"{machine['cpus']} CPUs, load average {machine['load_before']} before / "
        f"{machine['load_after']} after (the CPU is shared: read ratios first), "
        f"Python {machine['python']}, SQLite {machine['sqlite']}. {heavy_report.cpu_line(machine)} "
        f"Command: `{result['command']}`",
        "",
        "## Targets",
        "",
        "| target | measured | status | note |",
        "|---|---|---|---|",
        *(f"| {v.target} | {v.measured} | {v.status} | {v.note} |" for v in verdicts),
        "",
        "## Store-level per-user search (top 5, one person's rows, exact scoring)",
        "",
        "A copy of the store at 10,000 people is timed beside each larger store, in alternating blocks",
        'of 250 searches: "p50 vs 10K" is of those two, taken in the same minutes. The shared machine\'s',
        "speed drifts between the phases of one run; the ratio to the 10K phase itself is shown too.",
        "",
        "| people | memories | p50 / p99 ms | the copy beside it, p50 / p99 ms | p50 vs 10K | "
        "vs the 10K phase | read from storage per search | disk per memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for point in sorted(result["store"], key=lambda p: p["people"]):
        ratio, apart = point.get("p50_vs_10k"), point.get("p50_vs_10k_phases_apart")
        beside = point.get("reference_beside")
        lines.append(
            f"| {point['people']:,} | {point['rows']:,} | {_ms(point['search'])} | "
            f"{_ms(beside) if beside else '-'} | {f'{ratio:.2f}x' if ratio else '-'} | "
            f"{f'{apart:.2f}x' if apart else '-'} | {_kb(point.get('storage_read_kb_per_search'))} | "
            f"{point['bytes_per_memory']:,.0f} B |"
        )
    recall = result.get("recall_end_to_end")
    lines += ["", "## Through Cubby", "", "| figure | value |", "|---|---|"]
    lines.append(f"| `ScopedMemory.search` + reply text, p50 / p99 ms | {_ms(recall)} |")
    lines.append(f"| query embedding alone, p50 / p99 ms | {_ms(result.get('embedding'))} |")
    for phase, field in (("recall", "recalls_per_s"), ("remember", "remembers_per_s"), ("mixed", None)):
        figures = (result.get("throughput") or {}).get(phase)
        if figures:
            both = (
                f"{figures['recalls_per_s']:,.1f} recalls/s + {figures['remembers_per_s']:,.1f} remembers/s"
            )
            rate = f"{figures[field]:,.1f}/s" if field else both
            lines.append(
                f"| {phase} load ({figures['people']} people): rate, errors; CPU per command "
                f"| {rate}, {figures['errors']}; {figures['cpu_ms_per_operation']} ms |"
            )
    for platform, figures in (result.get("ack") or {}).items():
        if platform != "skipped" and isinstance(figures, dict):
            lines.append(
                f"| {platform} slash-command ack under load, p50 / p99 ms | {_ms(figures.get('ack'))} |"
            )
    for platform, reason in ((result.get("ack") or {}).get("skipped") or {}).items():
        lines.append(f"| {platform} ack | skipped: {reason} |")
    cold = result.get("cold_start") or {}
    if cold:
        lines.append(f"| cold start to ready | {cold['ready_s']:.2f} s |")
        kept = (
            f" (and {cold['store_kept_mb']} MB of the store kept in memory)"
            if cold.get("store_kept_mb")
            else ""
        )
        ready, serving = cold["rss_ready_mb"], cold["rss_serving_mb"]
        lines.append(f"| resident memory: ready / serving | {ready} MB / {serving} MB{kept} |")
    rss = result.get("rss") or {}
    if rss:
        lines.append(
            f"| resident memory of the bench process after the load (peak) | "
            f"{rss['after_load_mb']} MB ({rss['peak_mb']} MB) |"
        )
    install = result.get("install")
    if install:
        lines.append(f"| default install (fresh venv, no extras) | {install['venv_mb']} MB |")
    baseline = result.get("baseline")
    if baseline:
        cubby = result.get("cubby_at_baseline") or {}
        lines += [
            "",
            f"## Baseline: mem0's stock default store at {baseline['people']:,} people",
            "",
            "| path | Cubby p50 / p99 ms | stock qdrant local p50 / p99 ms | p50 ratio |",
            "|---|---|---|---|",
            f"| store search | {_ms(cubby.get('store'))} | {_ms(baseline['store_search'])} | "
            f"{_ratio(baseline['store_search'], cubby.get('store'))} |",
            f"| `ScopedMemory.search` | {_ms(cubby.get('scoped'))} | {_ms(baseline['scoped_search'])} | "
            f"{_ratio(baseline['scoped_search'], cubby.get('scoped'))} |",
            "",
            f"Stock store seeding: {baseline['seed_rows_per_s']:,} rows/s; "
            f"peak RSS {baseline['peak_rss_mb']} MB.",
        ]
    lines += heavy_report.markdown(result.get("growth"))
    lines += workers_report.markdown(result.get("workers"))
    lines += _profile_lines(result.get("profile") or {})
    lines += ["", *(f"![{name}]({name})" for name in plots)]
    if not plots:
        lines.append("(plots skipped: matplotlib is not installed; `pip install -e '.[bench]'`)")
    lines += ["", "Notes:", *(f"- {note}" for note in result.get("notes", []))]
    return "\n".join(lines) + "\n"


def _profile_lines(profiles: dict[str, Any]) -> list[str]:
    lines = []
    for phase, profile in profiles.items():
        lines += ["", f"## Profile of the {phase} load (py-spy, all threads)", ""]
        if "skipped" in profile:
            lines.append(f"skipped: {profile['skipped']}")
            continue
        shares = ", ".join(f"{name} {share:.0%}" for name, share in profile["thread_share"].items())
        lines += [f"Samples by thread: {shares}. Raw samples: `{profile['raw']}`.", ""]
        lines += ["| on top of the stack | share of samples |", "|---|---|"]
        lines += [f"| `{frame}` | {share:.1%} |" for frame, share in profile["top_frames"].items()]
    return lines


def _ratio(slow: dict[str, Any] | None, fast: dict[str, Any] | None) -> str:
    if not slow or not fast or not slow.get("n") or not fast.get("n"):
        return "-"
    return f"{slow['p50_ms'] / fast['p50_ms']:,.0f}x"


def write(result: dict[str, Any], directory: Path) -> tuple[list[Verdict], list[Path]]:
    """Write the JSON, the Markdown report and the plots; returns the verdicts and the files."""
    directory.mkdir(parents=True, exist_ok=True)
    verdicts = evaluate(result)
    result["targets"] = [_as_dict(v) for v in verdicts]
    name = result["name"]
    plots: list[str] = []
    try:
        import matplotlib

        matplotlib.use("Agg")
        _plot_latency(result, directory / f"{name}-latency.png")
        _plot_throughput(result, directory / f"{name}-throughput.png")
        plots = [f"{name}-latency.png", f"{name}-throughput.png"]
    except ImportError:
        result.setdefault("notes", []).append("plots skipped: matplotlib is not installed")
    (directory / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (directory / f"{name}.md").write_text(markdown(result, verdicts, plots))
    files = [directory / f"{name}.json", directory / f"{name}.md", *(directory / p for p in plots)]
    return verdicts, files


def _as_dict(verdict: Verdict) -> dict[str, str]:
    return {
        "target": verdict.target,
        "measured": verdict.measured,
        "status": verdict.status,
        "note": verdict.note,
    }

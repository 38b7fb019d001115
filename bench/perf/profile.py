"""Profiling a load phase with py-spy (``--profile``): it samples every thread of this process - the
event loop, the hub's memory thread and its embedding threads - including time in native code such as
onnxruntime, which an in-process Python profiler cannot see. The raw samples are kept next to the
results (``<name>-<phase>.pyspy.txt``, flamegraph.pl / speedscope input) and summarised: the share of
samples per thread and the functions most often on top of the stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_THREAD = re.compile(r"\(\d+\): ?")


def start(output: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    """Start sampling this process for ``seconds``; None when py-spy is not installed."""
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        return None
    command = [py_spy, "record", "--pid", str(os.getpid()), "--duration", str(max(1, int(seconds)))]
    command += ["--rate", "100", "--threads", "--nonblocking", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(sampler: subprocess.Popen[bytes] | None, output: Path, top: int = 12) -> dict[str, Any]:
    if sampler is None:
        return {"skipped": "py-spy is not installed (pip install -e '.[bench]')"}
    if sampler.wait(timeout=120) != 0 or not output.exists():
        return {"skipped": f"py-spy failed (exit {sampler.returncode}); it needs ptrace permission"}
    threads: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = _THREAD.sub("", frames[0].removeprefix("thread ")).strip() or frames[0]
        threads[thread] += int(count)
        leaves[f"{thread}: {frames[-1]}"] += int(count)
    total = sum(threads.values()) or 1
    return {
        "samples": total,
        "raw": output.name,
        "thread_share": {name: round(n / total, 3) for name, n in threads.most_common()},
        "top_frames": {frame: round(n / total, 3) for frame, n in leaves.most_common(top)},
    }

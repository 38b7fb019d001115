"""Cubby's benchmarks. Run them from the repository root:

    python -m bench.recall            # ScopedMemory search at 10K users vs mem0's stock store
    python -m bench.run               # the full suite (issue 8): writes bench/results/<date>.*

Figures come from here, never from timed unit tests. ``tests/test_bench_smoke.py`` runs a tiny
configuration of each script so they keep working.
"""

from pathlib import Path

#: Scratch space for seeded stores and the embedded text-pool cache: a git-ignored folder in the
#: repository, so it exists wherever the repository does (``--data-dir`` puts it elsewhere, e.g. a
#: bigger disk for the 1M-people run, ~30 GB).
SCRATCH = Path(__file__).resolve().parent / "scratch"

"""Cubby's benchmarks. Run them from the repository root:

    python -m bench.recall            # ScopedMemory search at 10K users vs mem0's stock store
    python -m bench.run               # the full suite (issue 8): writes bench/results/<date>.*

Figures come from here, never from timed unit tests. ``tests/test_bench_smoke.py`` runs a tiny
configuration of each script so they keep working.
"""

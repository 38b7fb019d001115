"""The size of a default install: a fresh venv with ``pip install <repo>`` (no extras), measured with
``du``-style block counts, then deleted. Slow (a minute or more) and needs the package index, so the
full bench runs it only with ``--install-size``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.perf.stats import tree_bytes

REPO = Path(__file__).resolve().parents[2]
_SOURCES = ("pyproject.toml", "README.md", "core", "bots")


def _copy_sources(target: Path) -> None:
    # A copy, so the build's egg-info and build/ folders land in scratch space, not in the repo.
    target.mkdir(parents=True)
    for name in _SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)


def measure_install(scratch: Path) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=scratch))
    try:
        source, venv = work / "src", work / "venv"
        _copy_sources(source)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        empty = tree_bytes(venv)
        installed = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", str(source)],
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            raise RuntimeError("pip install failed:\n" + installed.stderr[-2000:])
        total = tree_bytes(venv)
        biggest = sorted(
            ((tree_bytes(p), p.name) for p in next((venv / "lib").glob("python*/site-packages")).iterdir()),
            reverse=True,
        )[:8]
        return {
            "venv_mb": round(total / 1e6, 1),
            "added_by_install_mb": round((total - empty) / 1e6, 1),
            "largest_packages_mb": {name: round(size / 1e6, 1) for size, name in biggest},
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

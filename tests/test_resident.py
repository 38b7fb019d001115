"""Keeping the embedded store's files in memory: mapped and faulted in, following growth, never
holding a replaced file or more than the budget, and let go on close."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from core.memory.resident import RESIDENT, ResidentFiles

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux mappings only")

MIB = 1 << 20


def mapped_paths() -> set[str]:
    """The files this process has mapped, from the kernel's own list."""
    paths = set()
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            paths.add(parts[5].removesuffix(" (deleted)"))
    return paths


def write(path: Path, size: int) -> None:
    with open(path, "ab") as file:
        file.write(os.urandom(size))


def test_a_kept_file_is_mapped_and_faulted_in_until_released(tmp_path: Path) -> None:
    files = ResidentFiles(budget=64 * MIB)
    path = tmp_path / "store.sqlite3"
    write(path, 3 * MIB)
    assert files.keep(path)
    files.settle()
    assert files.held_bytes() == 3 * MIB
    assert str(path.resolve()) in mapped_paths()
    files.release(path)
    assert files.held_bytes() == 0
    assert str(path.resolve()) not in mapped_paths()


def kept_file(tmp_path: Path, size: int) -> tuple[ResidentFiles, Path]:
    """A file of ``size`` bytes, kept and faulted in."""
    files = ResidentFiles(budget=64 * MIB)
    path = tmp_path / "store.sqlite3"
    write(path, size)
    files.keep(path)
    files.settle()
    return files, path


def test_growth_is_followed_and_shrinking_is_harmless(tmp_path: Path) -> None:
    files, path = kept_file(tmp_path, MIB)
    write(path, 5 * MIB)
    files.settle()
    assert files.held_bytes() == 6 * MIB
    os.truncate(path, MIB // 2)
    files.settle()
    assert files.held_bytes() == MIB // 2
    files.release(path)


def test_a_file_replaced_on_disk_is_let_go(tmp_path: Path) -> None:
    files, path = kept_file(tmp_path, MIB)
    replacement = tmp_path / "new.sqlite3"
    write(replacement, 2 * MIB)
    os.replace(replacement, path)
    files.settle()
    assert files.held_bytes() == 2 * MIB  # the new file's pages, not the old one's
    maps = Path("/proc/self/maps").read_text()
    assert f"{path.resolve()} (deleted)" not in maps
    files.release(path)


def test_nothing_beyond_the_budget_is_held(tmp_path: Path) -> None:
    files = ResidentFiles(budget=2 * MIB)
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, 3 * MIB)
    write(second, MIB)
    files.keep(first)
    files.keep(second)
    files.settle()
    assert files.held_bytes() == 2 * MIB
    files.set_budget(0)
    assert files.held_bytes() == 0
    assert not files.keep(first)


def test_a_path_kept_twice_stays_until_both_release(tmp_path: Path) -> None:
    files, path = kept_file(tmp_path, MIB)
    files.keep(path)
    files.release(path)
    files.settle()
    assert files.held_bytes() == MIB
    files.release(path)
    assert files.held_bytes() == 0


def test_the_stores_and_the_key_table_keep_their_files_while_open(tmp_path: Path) -> None:
    from core.memory.crypto.key_table import SQLiteKeyTable
    from core.memory.stores.sqlite import SQLiteVectorStore

    store = SQLiteVectorStore("memories", str(tmp_path / "memories.sqlite3"), 384)
    keys = SQLiteKeyTable(tmp_path / "keys.sqlite3")
    assert {str(store.path.resolve()), str(keys.path.resolve())} <= mapped_paths()
    store.close()
    store.close()  # a second close releases nothing that another holder still needs
    keys.close()
    assert not {str(store.path.resolve()), str(keys.path.resolve())} & mapped_paths()
    assert RESIDENT.budget > 0

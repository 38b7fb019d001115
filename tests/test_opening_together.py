"""Workers that open a fresh data dir at the same moment all get a working database: switching a new
SQLite file to WAL mode fails at once ("database is locked") for a connection that races another."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from core.memory.stores.sqlite import connect
from core.shared_state.sqlite import SqliteTable


def _open_three_at_once(open_one: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            open_one()
        except BaseException as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("what", ["memory store", "shared state"])
def test_three_workers_opening_a_fresh_file_together_all_succeed(tmp_path: Path, what: str) -> None:
    for trial in range(30):  # the race lost about one trial in eight before the fix
        path = tmp_path / f"{trial}.sqlite3"
        if what == "memory store":
            errors = _open_three_at_once(lambda path=path: connect(path).close())
        else:
            errors = _open_three_at_once(lambda path=path: SqliteTable(path)._open())
        assert errors == [], f"trial {trial}: {errors!r}"

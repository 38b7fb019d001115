"""The shared state workers agree through: claims won by exactly one of any number of racing workers,
records sealed at rest and bound to their names, expiry, and erasure by key or prefix. Every test runs
on the embedded store (a SQLite file in the data dir) and on PostgreSQL; "workers" are separate
:class:`SharedState` objects, each with its own connection."""

import asyncio
import json
import logging
import os
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from core import ConfigError, Settings, SharedState, load_settings, open_shared_state
from core.secrets_box import KEY_FILE_NAME
from tests.conftest import files_containing

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.every_backend
TOKEN = b"xoxb-T0NORTH-0123456789-secret"


@pytest.fixture
async def open_worker(settings: Settings) -> AsyncIterator[Callable[[], SharedState]]:
    opened: list[SharedState] = []

    def worker() -> SharedState:
        opened.append(open_shared_state(settings))
        return opened[-1]

    yield worker
    for state in opened:
        await state.close()


def raw_values(settings: Settings, backend: str) -> list[bytes]:
    """Every stored value exactly as it is at rest."""
    if backend == "postgres":
        import psycopg

        assert settings.database_url is not None
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            rows = conn.execute("SELECT value FROM cubby_shared_records WHERE value IS NOT NULL").fetchall()
        return [bytes(value) for (value,) in rows]
    import sqlite3

    with sqlite3.connect(settings.data_dir / "shared.sqlite3") as db:
        return [value for (value,) in db.execute("SELECT value FROM shared_records WHERE value IS NOT NULL")]


async def test_of_many_workers_racing_for_one_claim_exactly_one_wins(open_worker) -> None:
    workers = [open_worker() for _ in range(3)]
    attempts = [worker.claim("event", "Ev1", ttl_seconds=60) for worker in workers for _ in range(10)]

    won = await asyncio.gather(*attempts)

    assert sum(won) == 1
    assert await workers[0].claim("event", "Ev2", ttl_seconds=60)  # another id is its own claim


CLAIMER = """
import asyncio, json, sys
from core import load_settings, open_shared_state

async def main() -> None:
    state = open_shared_state(load_settings())
    sys.stdin.readline()  # every process starts claiming at the same moment
    won = [i for i in range(int(sys.argv[1])) if await state.claim("event", f"Ev{i}", ttl_seconds=60)]
    await state.close()
    print(json.dumps(won))

asyncio.run(main())
"""


async def test_of_processes_racing_for_the_same_claims_exactly_one_wins_each(settings: Settings) -> None:
    environment = {**os.environ, "CUBBY_DATA_DIR": str(settings.data_dir), "CUBBY_BACKEND": settings.backend}
    if settings.database_url is not None:
        environment["CUBBY_DATABASE_URL"] = settings.database_url.get_secret_value()
    open_shared_state(settings)  # the key file exists before the processes start
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLAIMER, "200", env=environment, cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]  # fmt: skip
    outputs = await asyncio.gather(*(process.communicate(b"go\n") for process in processes))

    assert [process.returncode for process in processes] == [0, 0, 0]
    won = [json.loads(out) for out, _ in outputs]
    assert sorted(i for wins in won for i in wins) == list(range(200))


async def test_a_claim_while_another_process_holds_the_lock_waits_without_stalling_the_loop(
    settings: Settings, backend: str, open_worker
) -> None:
    if backend != "embedded":
        pytest.skip("the SQLite write lock")
    state = open_worker()
    await state.claim("event", "warm-up", ttl_seconds=60)
    other_process = sqlite3.connect(settings.data_dir / "shared.sqlite3", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    claim = asyncio.create_task(state.claim("event", "Ev1", ttl_seconds=60))
    await asyncio.sleep(0.3)
    assert not claim.done() and ticks >= 10  # the loop kept running while the claim waited
    other_process.execute("COMMIT")
    assert await claim
    ticker.cancel()
    other_process.close()


async def test_a_claim_can_be_won_again_once_it_has_expired(open_worker) -> None:
    first, second = open_worker(), open_worker()
    assert await first.claim("event", "Ev1", ttl_seconds=0.2)
    assert not await second.claim("event", "Ev1", ttl_seconds=0.2)

    await asyncio.sleep(0.3)

    assert await second.claim("event", "Ev1", ttl_seconds=60)
    assert not await first.claim("event", "Ev1", ttl_seconds=60)


async def test_a_record_put_by_one_worker_is_read_by_another_and_is_sealed_at_rest(
    open_worker, settings: Settings, backend: str
) -> None:
    writer, reader = open_worker(), open_worker()

    await writer.put("installation", "T0NORTH/bot", TOKEN)

    assert await reader.get("installation", "T0NORTH/bot") == TOKEN
    assert await reader.get("installation", "T0SOUTH/bot") is None
    [at_rest] = raw_values(settings, backend)
    assert TOKEN not in at_rest and b"T0NORTH" not in at_rest
    assert files_containing(settings.data_dir, TOKEN.decode()) == []


async def test_put_without_replace_keeps_a_live_record_but_takes_over_an_expired_one(open_worker) -> None:
    state = open_worker()
    assert await state.put("installation", "old", b"first")
    assert not await state.put("installation", "old", b"second", replace=False)
    assert await state.get("installation", "old") == b"first"

    assert await state.put("oauth-state", "s1", b"one", ttl_seconds=0.2)
    await asyncio.sleep(0.3)
    assert await state.get("oauth-state", "s1") is None  # expired records read as absent
    assert await state.put("oauth-state", "s1", b"two", replace=False)
    assert await state.get("oauth-state", "s1") == b"two"


async def test_a_record_taken_by_racing_workers_goes_to_exactly_one(open_worker) -> None:
    workers = [open_worker() for _ in range(3)]
    await workers[0].put("oauth-state", "s1", b"", ttl_seconds=60)

    taken = await asyncio.gather(*(worker.take("oauth-state", "s1") for worker in workers for _ in range(5)))

    assert taken.count(b"") == 1 and taken.count(None) == 14
    assert await workers[1].get("oauth-state", "s1") is None


async def test_an_expired_record_cannot_be_taken(open_worker) -> None:
    state = open_worker()
    await state.put("oauth-state", "s1", b"", ttl_seconds=0.2)
    await asyncio.sleep(0.3)
    assert await state.take("oauth-state", "s1") is None


async def test_deleting_by_prefix_removes_exactly_the_records_under_it(open_worker) -> None:
    state = open_worker()
    for key in ("a/T1/bot", "a/T1/installer", "a/T12/bot", "b/T1/bot"):
        await state.put("installation", key, key.encode())
    await state.put("other", "a/T1/bot", b"kept")

    assert await state.delete("installation", "a/T1/", prefix=True) == 2

    assert await state.get("installation", "a/T1/bot") is None
    assert await state.get("installation", "a/T12/bot") == b"a/T12/bot"
    assert await state.get("installation", "b/T1/bot") == b"b/T1/bot"
    assert await state.get("other", "a/T1/bot") == b"kept"
    assert await state.delete("installation", "a/T12/bot") == 1
    assert await state.delete("installation", "a/T12/bot") == 0


async def test_a_sealed_value_copied_under_another_name_does_not_open(
    open_worker, settings: Settings, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = open_worker()
    await state.put("installation", "T0NORTH/bot", TOKEN)
    await state.put("installation", "T0EVIL/bot", b"placeholder")
    copy_sealed_value(settings, backend, source="T0NORTH/bot", target="T0EVIL/bot")

    with caplog.at_level(logging.DEBUG):
        assert await state.get("installation", "T0EVIL/bot") is None

    assert await state.get("installation", "T0NORTH/bot") == TOKEN
    assert "does not open" in caplog.text and TOKEN.decode() not in caplog.text


def copy_sealed_value(settings: Settings, backend: str, *, source: str, target: str) -> None:
    statement = "UPDATE {t} SET value = (SELECT value FROM {t} WHERE key = {p}) WHERE key = {p}"
    if backend == "postgres":
        import psycopg

        assert settings.database_url is not None
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            conn.execute(statement.format(t="cubby_shared_records", p="%s"), (source, target))
        return
    import sqlite3

    with sqlite3.connect(settings.data_dir / "shared.sqlite3") as db:
        db.execute(statement.format(t="shared_records", p="?"), (source, target))


async def test_a_worker_with_another_master_key_reads_nothing_but_breaks_nothing(
    settings: Settings,
) -> None:
    ours = open_shared_state(settings.model_copy(update={"master_key": _secret("ours-" + "k" * 20)}))
    theirs = open_shared_state(settings.model_copy(update={"master_key": _secret("theirs-" + "k" * 20)}))
    try:
        await ours.put("installation", "T0NORTH/bot", TOKEN)
        assert await theirs.get("installation", "T0NORTH/bot") is None
        assert await ours.get("installation", "T0NORTH/bot") == TOKEN
    finally:
        await ours.close()
        await theirs.close()


async def test_names_that_are_empty_too_long_or_hold_nul_are_refused(open_worker) -> None:
    state = open_worker()
    for namespace, key in (("", "k"), ("ns", ""), ("ns", "k" * 513), ("ns", "a\0b")):
        with pytest.raises(ValueError):
            await state.put(namespace, key, b"value")
        with pytest.raises(ValueError):
            await state.claim(namespace, key, ttl_seconds=1)
    with pytest.raises(ValueError):
        await state.claim("ns", "k", ttl_seconds=0)


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


# -- the key and the files -------------------------------------------------------------------------
async def test_the_data_dirs_key_and_store_are_private_and_the_key_is_made_once(
    settings: Settings, backend: str
) -> None:
    settings = settings.model_copy(update={"master_key": None})  # the data dir's own key file, then
    first, second = open_shared_state(settings), open_shared_state(settings)
    try:
        await first.put("installation", "k", TOKEN)
        assert await second.get("installation", "k") == TOKEN  # both found the same key file
    finally:
        await first.close()
        await second.close()

    private = [settings.data_dir / KEY_FILE_NAME]
    if backend == "embedded":
        private.append(settings.data_dir / "shared.sqlite3")
    for path in private:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert len((settings.data_dir / KEY_FILE_NAME).read_bytes()) == 32


def test_a_master_key_shorter_than_16_characters_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUBBY_MASTER_KEY", "too-short")
    with pytest.raises(ConfigError, match="CUBBY_MASTER_KEY"):
        load_settings()


async def test_a_damaged_key_file_is_a_clear_error_not_a_new_key(settings: Settings) -> None:
    settings = settings.model_copy(update={"master_key": None})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / KEY_FILE_NAME).write_bytes(b"not a key")
    with pytest.raises(ConfigError, match="not a Cubby key file"):
        open_shared_state(settings)

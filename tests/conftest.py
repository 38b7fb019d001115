"""Shared fixtures. Every test runs the real stack: real mem0, the real SQLite store, the real
embedding model. Nothing in the memory path is mocked.

Modules marked ``every_backend`` run each test that uses ``settings`` (or ``hub``) once per backend
that can run here: the embedded store, and PostgreSQL + pgvector on a throwaway server on 127.0.0.1
(skipped, with the reason, only where that server cannot start). Everything else uses the embedded
store, so the suite does not double in time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core import Hub, Settings, load_settings, open_hub
from core.logs import is_library_logger

BACKENDS = ("embedded", "postgres")

# Variables a developer's shell or .env might hold that would change what the tests exercise.
_OUTSIDE_SETTINGS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "MEM0_API_KEY",
    "CUBBY_BACKEND",
    "CUBBY_DATABASE_URL",
    "CUBBY_MASTER_KEY",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "DISCORD_TOKEN",
    "DISCORD_DEV_GUILD_ID",
    "MEM0_HOST",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _OUTSIDE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer .env is read
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # the default data dir, per test


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "every_backend: run against every memory backend available here")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("every_backend") and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test: ``embedded`` unless the module is marked ``every_backend``."""
    return getattr(request, "param", "embedded")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'cubby[postgres]')")
    from tests.loopback.postgres_server import CannotStart, start_postgres

    try:
        server = start_postgres()
    except CannotStart as reason:
        pytest.skip(f"PostgreSQL cannot start here: {reason}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    import psycopg

    name = f"cubby_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    """Without the background sweeper: tests sweep when they mean to (tests/test_sweeper.py runs it)."""
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        # PostgreSQL has no default master key: every worker must be given the same one.
        master_key = uuid.uuid4().hex + uuid.uuid4().hex
        return load_settings(
            data_dir=tmp_path / "data",
            backend="postgres",
            database_url=url,
            master_key=master_key,
            sweep_seconds=0,
        )
    return load_settings(data_dir=tmp_path / "data", sweep_seconds=0)


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    async with open_hub(settings=settings) as opened:
        yield opened


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (UTF-8)."""
    data = needle.encode("utf-8")
    return [path for path in root.rglob("*") if path.is_file() and data in path.read_bytes()]


@pytest.fixture
def traces(settings: Settings, backend: str) -> Callable[[str], list[str]]:
    """Where the backend under test still holds ``needle``: any file under the data dir and, on
    PostgreSQL, any row of any table in Cubby's database. (What PostgreSQL keeps below the level of
    rows - freed page space, WAL - is documented in the README, not asserted here.)"""

    def find(needle: str) -> list[str]:
        found = [str(path) for path in files_containing(settings.data_dir, needle)]
        if backend == "postgres":
            from tests.loopback.postgres_server import tables_containing

            assert settings.database_url is not None
            found += tables_containing(settings.database_url.get_secret_value(), needle)
        return found

    return find


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """Logging as a new process has it: no record factory of Cubby's installed, no library logger
    capped. What protects the logs then has to come from the code under test itself."""
    factory = logging.getLogRecordFactory()
    levels = {name: logging.getLogger(name).level for name in list(logging.Logger.manager.loggerDict)}
    logging.setLogRecordFactory(logging.LogRecord)
    for name in levels:
        if is_library_logger(name):
            logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    logging.setLogRecordFactory(factory)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def every_log_record(fresh_logging: None) -> Iterator[list[logging.LogRecord]]:
    """Every log record at every level, mem0's and the HTTP clients' included: the worst case, as if an
    operator had turned all debug logging on. Starts from :func:`fresh_logging`."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in ("mem0", "openai", "httpx", "httpx2", "httpcore")]
    previous = [root.level, *(logger.level for logger in loggers)]
    root.addHandler(handler)
    for logger in (root, *loggers):
        logger.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    for logger, level in zip((root, *loggers), previous, strict=True):
        logger.setLevel(level)


def logged_text(records: list[logging.LogRecord]) -> str:
    """All that the records would print: messages, arguments, tracebacks."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.fixture(params=["DEBUG", "INFO"])
def root_log_level(request: pytest.FixtureRequest, fresh_logging: None) -> Iterator[int]:
    """The root logger at DEBUG, then at INFO (``CUBBY_LOG_LEVEL``), set before anything is built."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(request.param)
    yield root.level
    root.setLevel(previous)


class KeepRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_records(root_log_level: int) -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger's handlers, with the root at :func:`root_log_level`
    and nothing else changed: what an operator's log file would get."""
    handler = KeepRecords()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


def lines_with(records: list[logging.LogRecord], needle: str) -> list[str]:
    """The loggers of the records whose printed form contains ``needle`` (never the text itself)."""
    return [record.name for record in records if needle in logged_text([record])]

"""What Cubby does to logging so no log line holds memory text: library loggers capped, whatever
``CUBBY_LOG_LEVEL`` says and whenever the library made them; library records withheld whichever
handler receives them; rejections logged as facts. And ``cubby chat`` with an LLM, a real process at
DEBUG and at INFO, writing no canary to its log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.logs import LIBRARY_LOGGERS, cap_library_loggers, is_library_logger
from tests.conftest import lines_with
from tests.loopback.openai_server import FakeOpenAI, answer, extracted, failure

ROOT = Path(__file__).resolve().parent.parent
CANARY = f"canary-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def logger_made_at_root_level(root_records: list[logging.LogRecord]) -> Iterator[logging.Logger]:
    """A logger made the way Bolt makes its own: with an explicit level copied from the root."""
    logger = logging.getLogger(f"slack_bolt.Probe{uuid.uuid4().hex[:6]}")
    logger.setLevel(logging.getLogger().level)
    yield logger
    logging.Logger.manager.loggerDict.pop(logger.name, None)


@pytest.mark.parametrize("name", ["cubby", "cubby:listener", "slack_sdk.socket_mode", "mem0", "asyncio"])
def test_libraries_are_told_apart_from_cubbys_own_loggers(name: str) -> None:
    assert is_library_logger(name)


@pytest.mark.parametrize("name", ["core.agent", "bots.slack.app", "cubby.test", "cubbyish", "bench", "root"])
def test_cubbys_own_loggers_are_not_library_loggers(name: str) -> None:
    assert not is_library_logger(name)


def test_a_library_logger_made_at_the_roots_level_is_capped_at_warning(
    logger_made_at_root_level: logging.Logger,
) -> None:
    logger = logger_made_at_root_level
    assert logger.isEnabledFor(logging.INFO)

    cap_library_loggers()

    assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING)
    for name in LIBRARY_LOGGERS:
        assert not logging.getLogger(f"{name}.anything").isEnabledFor(logging.INFO), name


def test_cubbys_own_debug_lines_stay_when_the_libraries_are_capped(root_records: list) -> None:
    cap_library_loggers()

    assert logging.getLogger("core.agent").isEnabledFor(logging.getLogger().level)


def test_a_library_record_is_withheld_whoever_made_the_logger_and_at_any_level(
    root_records: list[logging.LogRecord],
) -> None:
    cap_library_loggers()
    late = logging.getLogger("cubby:made_after_the_cap")
    late.setLevel(logging.DEBUG)  # as Bolt resets its per-request logger
    try:
        raise ValueError(f"bad input {CANARY}")
    except ValueError:
        late.debug("request body: %s", CANARY, exc_info=True)
        logging.getLogger("slack_sdk.web").error(f"failed to post {CANARY}", exc_info=True)

    withheld = [r for r in root_records if r.name in ("cubby:made_after_the_cap", "slack_sdk.web")]
    assert len(withheld) == 2
    assert lines_with(root_records, CANARY) == []
    assert all("(ValueError)" in r.getMessage() for r in withheld)  # the error type stays


def test_a_bad_slack_signature_is_logged_as_a_fact_at_info_without_the_body(
    root_records: list[logging.LogRecord],
) -> None:
    verification = logging.getLogger("slack_bolt.RequestVerification")
    verification.setLevel(logging.WARNING)  # as copied from a capped base logger
    cap_library_loggers()

    verification.info(f"Invalid request signature detected (body: text=my+PIN+is+{CANARY})")

    [record] = [r for r in root_records if r.name == verification.name]
    assert record.levelno == logging.INFO and "Slack signature did not verify" in record.getMessage()
    assert CANARY not in record.getMessage()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


TERMINAL_SESSION = "\n".join(
    [
        f"/remember my PIN is {CANARY}",
        f"/remember {CANARY} " + "x" * 3000,
        f"/recall {CANARY}",
        f"what is my PIN? {CANARY}",
        f"and my locker? {CANARY}",
        f"and my bike lock? {CANARY}",
        "/export",
        "/forget PIN",
        "yes",
        "/quit",
    ]
)


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_cubby_chat_with_an_llm_writes_no_memory_text_to_its_log(
    tmp_path: Path, fake_openai: FakeOpenAI, level: str
) -> None:
    fake_openai.script("chat", answer(f"You told me {CANARY}"), failure(500), failure(500), failure(400))
    fake_openai.script("extraction", extracted(f"the PIN is {CANARY}"), failure(503), failure(503))
    environment = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "CUBBY_DATA_DIR": str(tmp_path / "data"),
        "CUBBY_LOG_LEVEL": level,
        "CUBBY_LLM_MAX_RETRIES": "1",
        "CUBBY_LLM_TIMEOUT_SECONDS": "3",
        "OPENAI_API_KEY": "sk-cubby-test",
        "OPENAI_BASE_URL": fake_openai.url,
        "OPENAI_LOG": "debug",  # the OpenAI client's own switch: must not open its logs either
    }
    finished = subprocess.run(
        [sys.executable, "-m", "bots.cli", "chat", "--user", "alice"],
        input=TERMINAL_SESSION,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )

    assert finished.returncode == 0, finished.stderr[-2000:]
    assert CANARY in finished.stdout  # the owner sees their memory in the terminal
    assert fake_openai.requests("chat") and fake_openai.requests("extraction")
    log_lines = finished.stderr.splitlines()
    # The LLM failures were logged, in Cubby's format: Cubby's configuration won over the one the
    # OpenAI client installs at import when OPENAI_LOG is set.
    assert any(" WARNING core.agent: " in line for line in log_lines)
    assert [line for line in log_lines if CANARY in line] == []

"""Fixtures for the agent tests: a fake OpenAI-compatible server on 127.0.0.1, settings that point
Cubby at it, and a real hub and agent built from those settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from core import Agent, Hub, Settings, open_hub

from .fake_openai import FakeOpenAI

API_KEY = "sk-cubby-test-key"
CHAT_MODEL = "fake-chat-model"
EXTRACTION_MODEL = "fake-extraction-model"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def llm_settings(settings: Settings, fake_openai: FakeOpenAI) -> Settings:
    return settings.model_copy(
        update={
            "openai_api_key": SecretStr(API_KEY),
            "openai_base_url": fake_openai.url,
            "chat_model": CHAT_MODEL,
            "extraction_model": EXTRACTION_MODEL,
            "llm_timeout_seconds": 3.0,
            "llm_max_retries": 2,
        }
    )


@pytest.fixture
async def llm_hub(llm_settings: Settings) -> AsyncIterator[Hub]:
    async with open_hub(settings=llm_settings) as opened:
        yield opened


@pytest.fixture
async def agent(llm_settings: Settings, llm_hub: Hub) -> AsyncIterator[Agent]:
    """An agent with the LLM on. Depends on ``llm_hub`` so it is closed (extractions finished) first."""
    opened = Agent(llm_settings)
    yield opened
    await opened.close()


@pytest.fixture
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Every log record at every level, mem0's and the HTTP clients' included (the worst case)."""
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

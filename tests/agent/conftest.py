"""Fixtures for the agent tests: a fake OpenAI-compatible server on 127.0.0.1, settings that point
Cubby at it, and a real hub and agent built from those settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from core import Agent, Hub, Settings, open_hub
from tests.loopback.openai_server import FakeOpenAI

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

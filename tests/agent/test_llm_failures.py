"""When the language model fails - too slow, rate-limited, erroring, or answering nonsense - the person
still gets a reply, nothing half-written lands in memory, and the log names error types, never text."""

from __future__ import annotations

import logging
import time

import pytest

from core import Agent, Hub, ScopedMemory, Settings, UserKey
from core.agent import LLM_DOWN
from tests.conftest import logged_text
from tests.loopback.openai_server import FakeOpenAI, Step, answer, failure, raw, stall

from .conftest import API_KEY

MEMORY = "I keep my spare key under the blue flowerpot"
MESSAGE = "Where did I hide my spare key?"
SECRETS = ("flowerpot", "spare key", "hide", API_KEY)


@pytest.fixture
def llm_settings(llm_settings: Settings) -> Settings:
    """A one-second budget per LLM call (for the hub's extraction too), so a stalled model costs the
    tests one second."""
    return llm_settings.model_copy(update={"llm_timeout_seconds": 1.0, "llm_max_retries": 2})


async def keeper(hub: Hub) -> ScopedMemory:
    alice = hub.scoped(UserKey.cli("alice"))
    await alice.add(MEMORY)
    return alice


CHAT_FAILURES = [
    pytest.param([stall(30)], 1, id="no answer within the time budget"),
    pytest.param([failure(429)] * 3, 3, id="rate-limited on every attempt"),
    pytest.param([failure(500), failure(502), failure(503)], 3, id="server errors on every attempt"),
    pytest.param([failure(429, retry_after="60")], 1, id="told to retry later than the budget allows"),
    pytest.param([failure(401)], 1, id="a refused key is not retried"),
    pytest.param([raw("<html>Bad gateway</html>")], 1, id="a body that is not JSON"),
    pytest.param([raw('{"id": "chatcmpl-1", "choices": []}')], 1, id="a completion without choices"),
    pytest.param([answer("   ")], 1, id="an empty answer"),
]


@pytest.mark.parametrize(("steps", "attempts"), CHAT_FAILURES)
async def test_a_failed_chat_model_gets_an_apology_with_the_memories_and_changes_nothing(
    llm_settings: Settings,
    llm_hub: Hub,
    fake_openai: FakeOpenAI,
    every_log_record: list[logging.LogRecord],
    steps: list[Step],
    attempts: int,
) -> None:
    alice = await keeper(llm_hub)
    fake_openai.script("chat", *steps)
    agent = Agent(llm_settings)

    started = time.monotonic()
    reply = await agent.reply(alice, MESSAGE)
    waited = time.monotonic() - started
    await agent.close()

    assert reply.text.startswith(LLM_DOWN) and MEMORY in reply.text
    assert [r.text for r in reply.memories] == [MEMORY]
    assert waited < 10  # the budget is 1 s; a stalled server would hold it for 30
    assert len(fake_openai.requests("chat")) == attempts
    assert fake_openai.requests("extraction") == []  # no exchange to learn from
    assert [r.text for r in await alice.get_all()] == [MEMORY]
    warnings = [r.getMessage() for r in every_log_record if r.name == "core.agent"]
    assert any("no answer from the chat model" in line for line in warnings)
    assert not any(secret in logged_text(every_log_record) for secret in SECRETS)


async def test_an_unreachable_server_gets_the_same_apology(llm_settings: Settings, llm_hub: Hub) -> None:
    alice = await keeper(llm_hub)
    agent = Agent(llm_settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1"}))
    reply = await agent.reply(alice, MESSAGE)
    await agent.close()
    assert reply.text.startswith(LLM_DOWN) and reply.reveals_memories


@pytest.mark.parametrize(
    "first", [failure(429), failure(503, retry_after=None)], ids=["after a 429", "after a 503"]
)
async def test_a_passing_failure_is_retried_and_the_answer_arrives(
    llm_settings: Settings, llm_hub: Hub, fake_openai: FakeOpenAI, first: Step
) -> None:
    alice = await keeper(llm_hub)
    fake_openai.script("chat", first, answer("Under the blue flowerpot."))
    agent = Agent(llm_settings)
    reply = await agent.reply(alice, MESSAGE)
    await agent.close()
    assert reply.text == "Under the blue flowerpot."
    assert len(fake_openai.requests("chat")) == 2


EXTRACTION_FAILURES = [
    pytest.param([stall(30)], True, id="no answer within the time budget"),
    pytest.param([failure(429)] * 3, True, id="rate-limited on every attempt"),
    pytest.param([failure(500)] * 3, True, id="server errors on every attempt"),
    pytest.param([raw("<html>Bad gateway</html>")], True, id="a body that is not JSON"),
    pytest.param([answer('{"memory": [{"text": "Hides a key')], False, id="malformed JSON"),
    pytest.param([answer("The spare key is under the flowerpot.")], False, id="prose instead of JSON"),
    pytest.param([answer('{"memory": "spare key: flowerpot"}')], True, id="JSON of the wrong shape"),
]


@pytest.mark.parametrize(("steps", "reported"), EXTRACTION_FAILURES)
async def test_a_failed_extraction_stores_nothing_and_logs_no_text(
    llm_settings: Settings,
    llm_hub: Hub,
    fake_openai: FakeOpenAI,
    every_log_record: list[logging.LogRecord],
    steps: list[Step],
    reported: bool,
) -> None:
    alice = await keeper(llm_hub)
    fake_openai.script("chat", answer("It is under the flowerpot, as you told me."))
    fake_openai.script("extraction", *steps)
    agent = Agent(llm_settings)

    reply = await agent.reply(alice, MESSAGE)
    await agent.close()

    assert reply.text == "It is under the flowerpot, as you told me."
    assert fake_openai.requests("extraction")
    assert [r.text for r in await alice.get_all()] == [MEMORY]
    failures = [r.getMessage() for r in every_log_record if r.name == "core.agent"]
    # mem0 itself swallows JSON it cannot parse; everything else is reported by type.
    assert any("fact extraction failed" in line for line in failures) == reported
    assert not any(secret in logged_text(every_log_record) for secret in SECRETS)

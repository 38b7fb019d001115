"""With an LLM, a message is answered from the person's own memories, and the exchange is handed to
mem0's real ``infer=True`` extraction. The real openai client talks to a fake server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

from core import Agent, Hub, Settings, Source, UserKey
from core.agent import MEMORIES_END, MEMORIES_START
from tests.loopback.openai_server import FakeOpenAI, answer, extracted, stall

from .conftest import API_KEY, CHAT_MODEL, EXTRACTION_MODEL


def memories_sent(content: str) -> list[str]:
    """The memory texts inside the data block of a prompt."""
    start = content.index(MEMORIES_START) + len(MEMORIES_START)
    return [item["text"] for item in json.loads(content[start : content.index(MEMORIES_END)])]


async def test_a_message_is_answered_by_the_chat_model_from_the_persons_memories(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    await alice.add("I am vegetarian")
    fake_openai.script("chat", answer("How about a mushroom risotto?"))

    reply = await agent.reply(alice, "What should I cook tonight?")

    assert reply.text == "How about a mushroom risotto?"
    assert [r.text for r in reply.memories] == ["I am vegetarian"] and reply.reveals_memories
    [request] = fake_openai.requests("chat")
    assert request.body["model"] == CHAT_MODEL
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert memories_sent(request.messages[-1]["content"]) == ["I am vegetarian"]
    assert request.messages[-1]["content"].endswith("\n\nWhat should I cook tonight?")


async def test_only_the_requesters_memories_reach_the_model(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    bob = llm_hub.scoped(UserKey.cli("bob"))
    await alice.add("I am a strict vegetarian and I hate olives")
    await bob.add("I am allergic to peanuts and love steak")

    await agent.reply(bob, "What food do I like?")
    await agent.drain()

    requests = fake_openai.received
    assert {r.kind for r in requests} == {"chat", "extraction"}
    assert all("vegetarian" not in r.text and "olives" not in r.text for r in requests)
    assert "peanuts" in fake_openai.requests("chat")[0].text


async def test_a_reply_drawn_from_no_memories_reveals_nothing(agent: Agent, llm_hub: Hub) -> None:
    reply = await agent.reply(llm_hub.scoped(UserKey.cli("alice")), "Hello there!")
    assert reply.text == "Noted." and not reply.reveals_memories


async def test_extracted_facts_land_in_the_requesters_memory_and_nowhere_else(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    bob = llm_hub.scoped(UserKey.cli("bob"))
    await alice.add("I live in Lisbon")
    await bob.add("I live in Berlin")
    fake_openai.script("chat", answer("Exciting! Porto is lovely."))
    fake_openai.script("extraction", extracted("Is moving to Porto in May"))

    await agent.reply(alice, "I'm moving to Porto in May", source=Source("slack", "dm"))
    await agent.drain()

    [request] = fake_openai.requests("extraction")
    assert request.body["model"] == EXTRACTION_MODEL
    prompt = request.messages[-1]["content"]
    assert "user: I'm moving to Porto in May" in prompt
    assert "assistant: Exciting! Porto is lovely." in prompt
    assert "Lisbon" in prompt and "Berlin" not in prompt  # mem0's "existing memories": alice's only
    records = {r.text: r for r in await alice.get_all()}
    assert set(records) == {"I live in Lisbon", "Is moving to Porto in May"}
    assert records["Is moving to Porto in May"].source.platform == "slack"
    assert [r.text for r in await bob.get_all()] == ["I live in Berlin"]


async def test_the_reply_does_not_wait_for_fact_extraction(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    fake_openai.script("extraction", stall(1.0))

    reply = await agent.reply(alice, "My sister is called Ana")

    assert reply.text == "Noted."
    assert agent.pending_extractions == 1  # still talking to the model when the reply came back
    await agent.drain()
    assert agent.pending_extractions == 0 and len(fake_openai.requests("extraction")) == 1


async def test_extractions_beyond_the_waiting_limit_are_skipped(
    llm_settings: Settings, llm_hub: Hub, fake_openai: FakeOpenAI, monkeypatch
) -> None:
    monkeypatch.setattr("core.agent.MAX_PENDING_EXTRACTIONS", 2)
    # No memory context: the replies need no search, which would wait for the running extraction.
    agent = Agent(llm_settings.model_copy(update={"context_max_memories": 0}))
    alice = llm_hub.scoped(UserKey.cli("alice"))
    fake_openai.script("extraction", stall(0.5), stall(0.5))

    for message in ("I like tea", "I like jazz", "I like rain"):
        await agent.reply(alice, message)
    await agent.close()

    assert len(fake_openai.requests("chat")) == 3
    assert len(fake_openai.requests("extraction")) == 2


async def test_the_memory_context_is_capped_by_count_and_by_characters(
    llm_settings: Settings, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    for text in ("I love pizza", "I love sushi", "I love tacos", "I love ramen"):
        await alice.add(text)

    sent = []
    for limits in ({"context_max_memories": 2}, {"context_max_chars": 15}, {"context_max_memories": 0}):
        agent = Agent(llm_settings.model_copy(update=limits))
        reply = await agent.reply(alice, "What food do I love?")
        await agent.close()
        sent.append(memories_sent(fake_openai.requests("chat")[-1].messages[-1]["content"]))
        assert [r.text for r in reply.memories] == sent[-1]

    assert [len(texts) for texts in sent] == [2, 1, 0]
    assert all(text.startswith("I love") for text in sent[0] + sent[1])


async def test_a_slow_extraction_does_not_hold_up_anyone_elses_commands(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI
) -> None:
    """Extraction waits on the model on its own thread; everyone's memory work goes on meanwhile."""
    alice, bob = llm_hub.scoped(UserKey.cli("alice")), llm_hub.scoped(UserKey.cli("bob"))
    await bob.add("I always want a window seat")
    fake_openai.script("extraction", stall(2.5))
    await agent.reply(alice, "I moved to Porto last week")
    while not fake_openai.requests("extraction"):
        await asyncio.sleep(0.01)

    found = await bob.search("plane seats")
    await bob.add("I like jazz")

    assert [r.text for r in found] == ["I always want a window seat"]
    assert agent.pending_extractions == 1  # the extraction is still waiting on the model

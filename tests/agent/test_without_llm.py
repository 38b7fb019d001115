"""Without an LLM the agent shows relevant memories and never calls a model; switching the LLM on or
off never loses a memory; bad input is refused before anything is sent."""

from __future__ import annotations

import pytest

from core import Agent, Hub, InvalidInput, Settings, UserKey, open_hub
from tests.loopback.openai_server import FakeOpenAI, answer, extracted


async def test_without_an_llm_a_message_gets_the_relevant_memories_and_no_model_is_called(
    hub: Hub, settings: Settings, fake_openai: FakeOpenAI
) -> None:
    alice = hub.scoped(UserKey.cli("alice"))
    await alice.add("I always want a window seat")
    agent = Agent(settings)

    found = await agent.reply(alice, "Which seat should I book on the plane?")
    nothing = await agent.reply(hub.scoped(UserKey.cli("bob")), "Which seat should I book on the plane?")
    await agent.close()

    assert "window seat" in found.text and "/remember" in found.text and found.reveals_memories
    assert "/remember" in nothing.text and not nothing.reveals_memories
    assert fake_openai.received == []
    assert await alice.count() == 1  # no extraction either


async def test_switching_the_llm_on_and_off_never_loses_memories(
    settings: Settings, llm_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    alice_key = UserKey.cli("alice")
    async with open_hub(settings=settings) as hub:
        await hub.scoped(alice_key).add("I am vegetarian")

    fake_openai.script("chat", answer("Try a lentil curry."))
    fake_openai.script("extraction", extracted("Likes spicy food"))
    async with open_hub(settings=llm_settings) as hub:
        agent = Agent(llm_settings)
        reply = await agent.reply(hub.scoped(alice_key), "I like spicy food, what should I cook?")
        await agent.close()
    assert reply.text == "Try a lentil curry." and "I am vegetarian" in fake_openai.received[0].text

    async with open_hub(settings=settings) as hub:
        alice = hub.scoped(alice_key)
        assert {r.text for r in await alice.get_all()} == {"I am vegetarian", "Likes spicy food"}
        reply = await Agent(settings).reply(alice, "What food do I like?")
    assert "Likes spicy food" in reply.text
    assert len(fake_openai.received) == 2  # the LLM-off hub and agent sent nothing


@pytest.mark.parametrize(
    ("message", "problem"),
    [("x" * 2001, "too long"), ("   ", "empty"), ("hi\x00there", "control characters"), (None, "text")],
)
async def test_bad_messages_are_refused_before_anything_is_sent_or_stored(
    agent: Agent, llm_hub: Hub, fake_openai: FakeOpenAI, message, problem: str
) -> None:
    alice = llm_hub.scoped(UserKey.cli("alice"))
    with pytest.raises(InvalidInput, match=problem):
        await agent.reply(alice, message)
    await agent.drain()
    assert fake_openai.received == [] and await alice.count() == 0

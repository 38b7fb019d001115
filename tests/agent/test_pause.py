"""While a person has paused Cubby, nothing is extracted from their conversations."""

from pathlib import Path

from bots.terminal import TerminalChat
from core import Agent, Hub, UserKey
from tests.loopback.openai_server import FakeOpenAI, answer, extracted
from tests.test_terminal import Script

ALICE = UserKey.cli("alice")


async def test_paused_conversations_are_not_learned_from_and_remember_still_works(
    llm_hub: Hub, agent: Agent, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.script("chat", answer("Nice!"), answer("Noted."))
    fake_openai.script("extraction", extracted("Likes figs"))
    script = Script(
        ["/pause", "I moved to Lisbon", "/status", "/remember I like figs", "/resume", "I like figs"]
    )
    await TerminalChat(llm_hub.scoped(ALICE), script.ask, script.say, tmp_path / "x", agent).run()
    await agent.drain()
    assert "I'm paused" in script.said[1] and "I'm paused" in script.said[3]
    assert "learning from our conversations" in script.said[5]
    extractions = fake_openai.requests("extraction")
    assert len(extractions) == 1 and "Lisbon" not in extractions[0].text  # only after /resume
    texts = {r.text for r in await llm_hub.scoped(ALICE).get_all()}
    assert texts == {"I like figs", "Likes figs"}

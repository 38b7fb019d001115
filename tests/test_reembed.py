"""``cubby memories reembed --model``: every vector of the store is computed again with the new model
and the store's stamp changes, in one transaction - ids, texts, sources and owners stay as they were,
and a failure part-way leaves the store exactly as it was. On every backend."""

from __future__ import annotations

import numpy as np
import pytest

from bots import operator
from core import ConfigError, InvalidInput, Settings, Source, UserKey, open_hub, reembed
from core.memory import models
from core.memory import reembed as reembed_module

pytestmark = pytest.mark.every_backend

ALICE, BOB = UserKey.cli("alice"), UserKey.cli("bob")


def with_model(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"embedding_model": name})


async def seed(settings: Settings) -> dict[str, list]:
    async with open_hub(settings=settings) as hub:
        for text in ("I am allergic to peanuts", "My daughter is called Emma", "I drive a blue Volvo"):
            await hub.scoped(ALICE).add(text, source=Source("slack", "C1"))
        await hub.scoped(BOB).add("Bob's flight leaves on Friday")
        return {str(key): await hub.scoped(key).get_all() for key in (ALICE, BOB)}


async def test_reembedding_moves_every_memory_to_the_new_model_and_keeps_everything_else(
    settings: Settings,
) -> None:
    before = await seed(settings)

    done = await reembed(settings, "multilingual")

    assert (done.was, done.now, done.rows) == ("minilm", "multilingual", 4)
    async with open_hub(settings=with_model(settings, "multilingual")) as hub:
        after = {str(key): await hub.scoped(key).get_all() for key in (ALICE, BOB)}
        assert after == before  # same ids, texts, times, sources and owners
        found = await hub.scoped(ALICE).search("Wie heißt meine Tochter?", limit=1)
        assert [record.text for record in found] == ["My daughter is called Emma"]
        assert [r.text for r in await hub.scoped(BOB).search("Wann fliegt Bob?", limit=5)] == [
            "Bob's flight leaves on Friday"
        ]
    with pytest.raises(ConfigError, match="embedded with the 'multilingual' model"):
        async with open_hub(settings=settings):
            pass


async def test_reembedding_into_the_model_the_store_already_has_changes_nothing(settings: Settings) -> None:
    await seed(settings)

    done = await reembed(settings, "minilm")

    assert (done.was, done.now, done.rows) == ("minilm", "minilm", 0)
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(ALICE).count() == 3


async def test_a_failure_part_way_leaves_the_store_as_it_was(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await seed(settings)
    real = models.shared_encoder("multilingual")
    calls = []

    class FailsOnTheThirdBatch:
        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            if len(calls) == 3:
                raise RuntimeError("the model crashed")
            return real.encode(texts)

    monkeypatch.setattr(reembed_module, "BATCH", 1)
    monkeypatch.setattr(reembed_module, "shared_encoder", lambda name: FailsOnTheThirdBatch())

    with pytest.raises(RuntimeError):
        await reembed(settings, "multilingual")

    assert len(calls) == 3  # two rows had been rewritten when it failed
    async with open_hub(settings=settings) as hub:  # still MiniLM's, whole
        assert {str(key): await hub.scoped(key).get_all() for key in (ALICE, BOB)} == before
        found = await hub.scoped(ALICE).search("peanut allergy", limit=1)
        assert [record.text for record in found] == ["I am allergic to peanuts"]


async def test_the_operator_command_asks_first_and_changes_nothing_unconfirmed(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(settings)

    assert await operator.reembed_store(settings, "multilingual", assume_yes=False, ask=lambda _: "no") == 1
    with pytest.raises(InvalidInput, match="nothing was changed"):
        await operator.reembed_store(settings, "multilingual", assume_yes=False, ask=_end_of_input)
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(ALICE).count() == 3

    confirmed = await operator.reembed_store(
        settings, "multilingual", assume_yes=False, ask=lambda _: "multilingual"
    )

    assert confirmed == 0
    printed = capsys.readouterr().err
    assert "Re-embedded 4 rows from 'minilm' to 'multilingual'" in printed
    assert "CUBBY_EMBEDDING_MODEL=multilingual" in printed
    assert "peanuts" not in printed  # no memory text on the terminal or in logs


def _end_of_input(_: str) -> str:
    raise EOFError


async def test_the_hosted_platform_has_nothing_to_reembed(settings: Settings) -> None:
    hosted = settings.model_copy(update={"backend": "hosted"})
    with pytest.raises(ConfigError, match="hosted platform embeds memories itself"):
        await reembed(hosted, "multilingual")

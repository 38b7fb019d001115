"""Choosing the embedding model: the multilingual model finds a memory whatever language it was said
in, its files are verified before they are read, and a store made with one model refuses to open with
another - with a message that says what to do - on every backend."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from core import ConfigError, Settings, UserKey, open_hub
from core.memory import models, multilingual
from core.memory.embedding import ModelFileError
from core.memory.stores.model_stamp import TABLE

pytestmark = pytest.mark.every_backend

FACTS = [
    "I am allergic to peanuts",
    "My daughter is called Emma",
    "I drive a blue Volvo",
    "My flight to Oslo leaves on Friday",
]
QUERIES = [  # the same facts asked in German, French and Spanish
    "Bin ich gegen irgendetwas allergisch?",
    "Comment s'appelle ma fille ?",
    "¿Qué coche conduzco?",
    "Wann geht mein Flug nach Oslo?",
]


def test_the_multilingual_model_puts_every_language_in_one_space() -> None:
    encoder = models.shared_encoder("multilingual")
    facts, queries = encoder.encode(FACTS), encoder.encode(QUERIES)

    assert facts.shape == (4, 512) and facts.dtype == np.float32
    assert np.allclose(np.linalg.norm(facts, axis=1), 1.0, atol=1e-5)
    assert list(np.argmax(queries @ facts.T, axis=1)) == [0, 1, 2, 3]


def test_a_tampered_multilingual_weights_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, tokenizer = multilingual.model_files()
    tampered = tmp_path / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    shutil.copy(tokenizer, tmp_path / "sp.model")
    monkeypatch.setattr(multilingual, "model_files", lambda: (tampered, tmp_path / "sp.model"))

    with pytest.raises(ModelFileError, match="sha256"):
        multilingual.MultilingualEncoder()


def test_an_unknown_model_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="CUBBY_EMBEDDING_MODEL is one of minilm, multilingual"):
        models.embedding_model("klingon")


def with_model(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"embedding_model": name})


async def test_with_the_multilingual_model_a_memory_is_found_by_a_query_in_another_language(
    settings: Settings,
) -> None:
    async with open_hub(settings=with_model(settings, "multilingual")) as hub:
        alice = hub.scoped(UserKey.cli("alice"))
        for fact in FACTS:
            await alice.add(fact)

        for query, fact in zip(QUERIES, FACTS, strict=True):
            assert (await alice.search(query, limit=1))[0].text == fact


@pytest.mark.parametrize(
    ("made_with", "opened_with"), [("minilm", "multilingual"), ("multilingual", "minilm")]
)
async def test_a_store_made_with_one_model_refuses_to_open_with_another(
    settings: Settings, made_with: str, opened_with: str
) -> None:
    async with open_hub(settings=with_model(settings, made_with)) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")

    with pytest.raises(ConfigError) as refused:
        async with open_hub(settings=with_model(settings, opened_with)):
            pass
    message = str(refused.value)
    assert f"embedded with the {made_with!r} model" in message
    assert f"set CUBBY_EMBEDDING_MODEL={made_with}" in message
    assert f"cubby memories reembed --model {opened_with}" in message

    async with open_hub(settings=with_model(settings, made_with)) as hub:  # still fine as it was
        assert await hub.scoped(UserKey.cli("alice")).count() == 1


async def test_an_empty_store_takes_the_model_that_first_opens_it(settings: Settings) -> None:
    async with open_hub(settings=with_model(settings, "multilingual")):
        pass

    with pytest.raises(ConfigError, match="embedded with the 'multilingual' model"):
        async with open_hub(settings=with_model(settings, "minilm")):
            pass


async def test_a_store_from_before_the_stamp_counts_as_minilm(settings: Settings, backend: str) -> None:
    async with open_hub(settings=settings) as hub:
        await hub.scoped(UserKey.cli("alice")).add("I am vegetarian")
    drop_stamp(settings, backend)

    with pytest.raises(ConfigError, match="embedded with the 'minilm' model"):
        async with open_hub(settings=with_model(settings, "multilingual")):
            pass
    async with open_hub(settings=settings) as hub:
        assert await hub.scoped(UserKey.cli("alice")).count() == 1


def drop_stamp(settings: Settings, backend: str) -> None:
    if backend == "postgres":
        import psycopg

        assert settings.database_url is not None
        with psycopg.connect(settings.database_url.get_secret_value(), autocommit=True) as connection:
            connection.execute(f"DROP TABLE {TABLE}")
    else:
        from core.storage import DATABASE_NAME

        connection = sqlite3.connect(settings.data_dir / DATABASE_NAME)
        connection.execute(f"DROP TABLE {TABLE}")
        connection.commit()
        connection.close()

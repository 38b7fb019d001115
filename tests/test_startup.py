"""Start-up does only what the first command needs, and the model loads once, in the background.

Importing the core leaves mem0 and openai unimported (mem0 is imported when a hub opens, after
Cubby has set its environment; openai only when a language model is configured). The model starts
loading when a hub starts opening, on its own thread, and every user of it waits for that one load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core import ConfigError
from core.memory import models

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_importing_the_core_imports_neither_mem0_nor_openai_nor_the_model_runtime() -> None:
    loaded = _modules_after("import core")
    assert {"mem0", "openai", "onnxruntime", "qdrant_client"}.isdisjoint(loaded)


def test_opening_a_hub_leaves_qdrant_unimported_and_a_qdrant_store_configured_later_gets_the_real_one(
    tmp_path: Path,
) -> None:
    opened = (
        "import asyncio\nfrom core import open_hub\n"
        "async def main():\n"
        f"    async with open_hub({str(tmp_path)!r}) as hub:\n"
        "        pass\n"
        "asyncio.run(main())\n"
    )
    assert "qdrant_client" not in _modules_after(opened)
    later = (
        "from mem0.vector_stores.configs import VectorStoreConfig\n"
        f"config = VectorStoreConfig(provider='qdrant', config={{'path': {str(tmp_path / 'q')!r}}}).config\n"
        "assert 'embedding_model_dims' in type(config).model_fields, type(config)\n"
    )
    assert "qdrant_client" in _modules_after(opened + later)


def test_building_the_language_model_clients_still_imports_openai() -> None:
    loaded = _modules_after(
        "from core.llm import ChatModel, ExtractionLLM, LLMConfig\n"
        "config = LLMConfig(model='m', api_key='k', base_url='http://127.0.0.1:9')\n"
        "ChatModel(config); ExtractionLLM(config)"
    )
    assert "openai" in loaded


class _Counted:
    loads = 0


@pytest.fixture
def fake_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A fresh table of loads whose model takes 50 ms to load and records each load."""
    started: list[str] = []

    def load(name: str) -> _Counted:
        started.append(name)
        time.sleep(0.05)
        return _Counted()

    monkeypatch.setattr(models, "_loads", {})
    monkeypatch.setattr(models, "_load", load)
    return started


def test_every_caller_gets_the_one_encoder_loaded_in_the_background(fake_loads: list[str]) -> None:
    models.load_in_background("minilm")
    got: list[object] = []
    callers = [threading.Thread(target=lambda: got.append(models.shared_encoder("minilm"))) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    models.load_in_background("minilm")  # already loaded: nothing starts again

    assert fake_loads == ["minilm"]
    assert len(got) == 8 and all(encoder is got[0] for encoder in got)


def test_a_failed_load_is_raised_to_its_caller_and_the_next_caller_tries_again(
    fake_loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> object:
        fake_loads.append(name)
        raise ConfigError("the model file is missing")

    working = models._load
    monkeypatch.setattr(models, "_load", broken)
    with pytest.raises(ConfigError, match="missing"):
        models.shared_encoder("minilm")

    monkeypatch.setattr(models, "_load", working)
    assert isinstance(models.shared_encoder("minilm"), _Counted)
    assert fake_loads == ["minilm", "minilm"]


def test_an_unknown_model_is_refused_on_the_callers_thread_before_anything_loads(
    fake_loads: list[str],
) -> None:
    with pytest.raises(ConfigError, match="unknown embedding model"):
        models.load_in_background("no-such-model")
    assert fake_loads == [] and models._loads == {}

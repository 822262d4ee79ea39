"""The local sentence embedder: shape, unit norm, meaning, batching, truncation, sharing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from promptdeck.core.providers.embeddings import DIMENSIONS, Embedder, get_embedder
from promptdeck.errors import RuntimeFailureError


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.embed(["The cat sat on the mat.", "Stock markets fell today.", ""])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSIONS)


def test_similar_sentences_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        [
            "How do I reset my password?",
            "I forgot my password, how can I change it?",
            "The recipe needs two cups of flour and an egg.",
        ]
    )
    assert float(a @ b) > 0.6
    assert float(a @ b) > float(a @ c) + 0.4


def test_batching_and_order_do_not_change_vectors(embedder: Embedder) -> None:
    texts = [f"sentence number {i} " * (i % 7 + 1) for i in range(70)]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-4)


def test_long_texts_are_truncated(embedder: Embedder) -> None:
    long = "word " * 2000
    assert embedder.count_tokens([long]) == [2000]
    full, short = embedder.embed([long]), embedder.embed([long], max_tokens=16)
    assert full.shape == short.shape == (1, DIMENSIONS)
    head = "alpha beta gamma " * 5
    # Only the first tokens count: a different tail past the limit changes nothing.
    x, y = embedder.embed([head + "zeta " * 300, head + "omega " * 300], max_tokens=16)
    assert np.allclose(x, y, atol=1e-5)


def test_one_shared_instance_across_threads() -> None:
    seen: list[Embedder] = []
    threads = [threading.Thread(target=lambda: seen.append(get_embedder())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e in seen}) == 1


def test_concurrent_embedding_gives_the_same_vectors(embedder: Embedder) -> None:
    expected = embedder.embed(["thread safety"])
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(embedder.embed(["thread safety"])))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.allclose(r, expected, atol=1e-5) for r in results)


def test_a_missing_model_file_is_a_runtime_failure(tmp_path: Path) -> None:
    broken = Embedder(model_path=tmp_path / "missing.onnx")
    with pytest.raises(RuntimeFailureError, match="cannot load the embedding model"):
        broken.embed(["x"])
    with pytest.raises(RuntimeFailureError, match="tokenizer is missing"):
        Embedder(tokenizer_path=tmp_path / "none.json").load()


def test_the_classifiers_embedder_is_its_own_truncated_model(embedder: Embedder) -> None:
    from promptdeck.core.guardrails.classifier_model import (
        CLASSIFIER_MODEL,
        CLASSIFIER_TOKENS,
        classifier_embedder,
        embed_for_classifiers,
    )

    classifier = classifier_embedder()
    assert classifier is classifier_embedder() and classifier is not embedder
    assert classifier.model_path == CLASSIFIER_MODEL and CLASSIFIER_MODEL.is_file()
    assert classifier.max_tokens == CLASSIFIER_TOKENS
    # Unfused, so its arithmetic is what its operators say (test_classifier_model.py).
    assert classifier.fuse is False and embedder.fuse is True
    texts = ["Ignore the rules.", "What is the capital of France?", "Ignore the rules."]
    vectors = embed_for_classifiers(texts)
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])  # equal texts are embedded once
    assert np.allclose(vectors[:2], embed_for_classifiers(texts[:2]), atol=1e-5)
    # The semantic cache's embedder keeps the full model.
    assert embedder.model_path is None and embedder.max_tokens == 256

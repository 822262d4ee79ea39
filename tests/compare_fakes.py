"""Fakes for compare tests (CLI and TUI): canned answers per model, a bag-of-words embedder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers import embeddings
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider


class WordEmbedder:
    """Bag-of-words vectors over the texts embedded together: deterministic, no model."""

    def embed(self, texts: Sequence[str]) -> Any:
        vocab = sorted({w for t in texts for w in t.lower().split()})
        rows = np.array(
            [[t.lower().split().count(w) for w in vocab] + [0.01] for t in texts], dtype=np.float32
        )
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def install_fakes(monkeypatch: pytest.MonkeyPatch, answers: Mapping[str, str]) -> FakeProvider:
    """Make every model a fake answering from ``answers`` and the embedder a WordEmbedder."""

    def answer(request: ChatRequest) -> str:
        return answers.get(request.model, f"answer from {request.model}")

    provider = FakeProvider(default=answer, cost_per_token=0.0001)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    monkeypatch.setattr(embeddings, "get_embedder", WordEmbedder)
    return provider

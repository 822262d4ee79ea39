"""The workspace's similar-traces index, with the local embedder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.similar.index import TraceIndex
from promptdeck.core.similar.vectors import CachedEmbed
from promptdeck.paths import WorkspacePaths

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["EMBEDDER_NAME", "case_embedder", "case_vectors_file", "embed_texts", "trace_index"]

EMBEDDER_NAME = "all-MiniLM-L6-v2-int8"


def embed_texts(texts: Sequence[str]) -> NDArray[np.float32]:
    """The local embedder's normalised vectors of ``texts`` (loads it on first use)."""
    from promptdeck.core.providers.embeddings import get_embedder

    return get_embedder().embed(texts)


def trace_index(paths: WorkspacePaths) -> TraceIndex:
    """The similar-traces index of the workspace at ``paths`` (in ``.promptdeck/indexes``)."""
    from promptdeck.core.providers.embeddings import DIMENSIONS

    return TraceIndex(paths.indexes, embed_texts, DIMENSIONS, EMBEDDER_NAME)


def case_vectors_file(paths: WorkspacePaths) -> Path:
    """Where the near-duplicate check keeps the vectors of the cases it has embedded."""
    return paths.indexes / "case-vectors.npz"


def case_embedder(paths: WorkspacePaths, *, known_only: bool = False) -> CachedEmbed:
    """The embedder of the near-duplicate check, remembering vectors in ``.promptdeck``.

    Args:
        paths: The workspace.
        known_only: Use only vectors embedded before (see :class:`CachedEmbed`).
    """
    return CachedEmbed(embed_texts, EMBEDDER_NAME, case_vectors_file(paths), known_only=known_only)

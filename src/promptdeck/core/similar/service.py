"""The workspace's similar-traces index, with the local embedder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptdeck.core.similar.index import TraceIndex
from promptdeck.core.similar.vectors import CachedEmbed
from promptdeck.paths import WorkspacePaths

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["EMBEDDER_NAME", "case_embedder", "embed_texts", "trace_index"]

EMBEDDER_NAME = "all-MiniLM-L6-v2-int8"


def embed_texts(texts: Sequence[str]) -> NDArray[np.float32]:
    """The local embedder's normalised vectors of ``texts`` (loads it on first use)."""
    from promptdeck.core.providers.embeddings import get_embedder

    return get_embedder().embed(texts)


def trace_index(paths: WorkspacePaths) -> TraceIndex:
    """The similar-traces index of the workspace at ``paths`` (in ``.promptdeck/indexes``)."""
    from promptdeck.core.providers.embeddings import DIMENSIONS

    return TraceIndex(paths.indexes, embed_texts, DIMENSIONS, EMBEDDER_NAME)


def case_embedder(paths: WorkspacePaths) -> CachedEmbed:
    """The embedder of the near-duplicate check, remembering vectors in ``.promptdeck``."""
    return CachedEmbed(embed_texts, EMBEDDER_NAME, paths.indexes / "case-vectors.npz")

"""The semantic assertion type ``similar``: embedding cosine against a reference.

The embedder is the local all-MiniLM-L6-v2
(:func:`promptdeck.core.providers.embeddings.get_embedder`) unless
:class:`~promptdeck.core.scorers.base.ScoringOptions` injects another. Its rows are
unit-norm, so the cosine is a dot product.
"""

from __future__ import annotations

from promptdeck.core.scorers.base import (
    AssertionContext,
    EmbedderLike,
    Outcome,
    as_text,
    assertion,
)
from promptdeck.core.scorers.overlap import check_references

__all__ = ["DEFAULT_SIMILARITY_THRESHOLD", "cosine_similarities"]

DEFAULT_SIMILARITY_THRESHOLD = 0.75
"""The threshold of ``similar`` when a spec gives none."""


def cosine_similarities(embedder: EmbedderLike, text: str, references: list[str]) -> list[float]:
    """Return the cosine similarity of ``text`` to each reference.

    Args:
        embedder: Embeds texts as unit-norm rows.
        text: The text to compare.
        references: The references.

    Returns:
        One cosine per reference, in [-1, 1].
    """
    vectors = embedder.embed([text, *references])
    first = vectors[0]
    return [float(first @ vectors[i]) for i in range(1, len(references) + 1)]


@assertion(
    "similar", value="expected", threshold=DEFAULT_SIMILARITY_THRESHOLD, check=check_references
)
def similar(output: str, ctx: AssertionContext) -> Outcome:
    """Embedding cosine to the reference (the best of several) reaches the threshold (0.75)."""
    if ctx.value is None:
        raise ValueError("no reference: give a value or an expected answer")
    refs = [as_text(r) for r in ctx.value] if isinstance(ctx.value, list) else [as_text(ctx.value)]
    embedder = ctx.options.embedder
    if embedder is None:
        from promptdeck.core.providers.embeddings import get_embedder

        embedder = get_embedder()
    best = max(cosine_similarities(embedder, output, refs))
    threshold = ctx.threshold if ctx.threshold is not None else DEFAULT_SIMILARITY_THRESHOLD
    ok = best >= threshold
    return Outcome(max(0.0, best), ok, f"cosine {best:.3f} {'≥' if ok else '<'} {threshold:g}")

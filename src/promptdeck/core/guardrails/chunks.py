"""Scan a long text in bounded chunks, so time and memory grow with the chunk, not the text.

A text longer than :data:`CHUNK_CHARS` is cut into chunks of that size, each
overlapping the next by :data:`OVERLAP_CHARS`, so that a finding up to that long is
seen whole by one chunk even where it spans a cut. The scanners marked ``chunked``
(those whose findings are local: PII, secrets, and the classifiers' rules)
scan every chunk; their verdicts merge into one: flagged if any chunk is, the highest
score and its reason, and the spans in the text's offsets, each finding once.

The classifiers' heads read a text's opening (its first tokens and characters), so
they classify the first chunk only, whose sentence vector is computed once and shared;
their rules read every chunk (each chunk reports its first match per rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # base imports this module: its types only, to keep them apart
    from promptdeck.core.guardrails.base import ScanContext, ScannerSpec, Span, Verdict

__all__ = ["CHUNK_CHARS", "OVERLAP_CHARS", "chunk_bounds", "scan_chunked"]

CHUNK_CHARS = 50_000
"""Characters one chunk holds; texts up to this long are scanned whole, as they are."""
OVERLAP_CHARS = 4_096
"""Characters each chunk shares with the next: the longest finding seen whole at a cut."""


def chunk_bounds(length: int) -> list[tuple[int, int]]:
    """Return the (start, end) of each chunk of a text ``length`` characters long."""
    if length <= CHUNK_CHARS:
        return [(0, length)]
    step = CHUNK_CHARS - OVERLAP_CHARS
    bounds = []
    start = 0
    while True:
        end = min(start + CHUNK_CHARS, length)
        bounds.append((start, end))
        if end == length:
            return bounds
        start += step


def _merge_spans(spans: list[Span]) -> tuple[Span, ...]:
    """Each finding once: drop repeats and spans inside a longer one of the same type."""
    ordered = sorted(set(spans), key=lambda s: (s.start, -s.end, s.type))
    kept: list[Span] = []
    reach: dict[str, int] = {}  # type -> the furthest end of a kept span of that type
    for span in ordered:
        if reach.get(span.type, -1) >= span.end:
            continue
        kept.append(span)
        reach[span.type] = max(reach.get(span.type, -1), span.end)
    return tuple(kept)


def _merge(parts: Sequence[tuple[int, Verdict]]) -> Verdict:
    best = max((v for _, v in parts), key=lambda v: v.score)
    spans = [
        dataclasses.replace(s, start=s.start + offset, end=s.end + offset)
        for offset, verdict in parts
        for s in verdict.spans
    ]
    flagged = any(v.flagged for _, v in parts)
    return dataclasses.replace(best, flagged=flagged, spans=_merge_spans(spans))


def scan_chunked(
    specs: Sequence[ScannerSpec], text: str, context: ScanContext
) -> dict[str, Verdict]:
    """Run chunked scanners over a long text, chunk by chunk; merge their verdicts.

    Args:
        specs: The scanners (each marked ``chunked``).
        text: The text, of any length.
        context: Its context (a whole-text ``embedding`` is not used: each chunk has its own).

    Returns:
        The verdicts by scanner name, in the order given.
    """
    base = dataclasses.replace(context, embedding=None)
    parts: dict[str, list[tuple[int, Verdict]]] = {spec.name: [] for spec in specs}
    embeds = any(spec.uses_embedding for spec in specs)
    bounds = chunk_bounds(len(text))
    for index, (start, end) in enumerate(bounds):
        chunk = text[start:end]
        ctx = dataclasses.replace(base, part=index)
        if embeds and index == 0:
            from promptdeck.core.guardrails.classifier_model import embed_for_classifiers

            ctx = dataclasses.replace(ctx, embedding=embed_for_classifiers([chunk])[0])
        first, last = index == 0, index == len(bounds) - 1
        for spec in specs:
            verdict = spec.func(chunk, ctx)
            if verdict.spans and not (first and last):
                verdict = _inner(verdict, len(chunk), first, last)
            parts[spec.name].append((start, verdict))
    return {name: _merge(found) for name, found in parts.items()}


def _inner(verdict: Verdict, length: int, first: bool, last: bool) -> Verdict:
    """Drop the spans a cut may have clipped that a neighbouring chunk sees whole.

    A span touching the chunk's end and starting in the overlap is whole in the next
    chunk; one touching its start and ending within the overlap, whole in the previous.
    """
    overlap_from = length - OVERLAP_CHARS
    kept = tuple(
        s
        for s in verdict.spans
        if (last or not (s.end >= length and s.start >= overlap_from))
        and (first or not (s.start <= 0 and s.end <= OVERLAP_CHARS))
    )
    return dataclasses.replace(verdict, spans=kept)

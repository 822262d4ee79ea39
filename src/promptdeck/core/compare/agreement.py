"""How far an ensemble's answers agree: similarity, votes and a judge's citations.

Pure functions of the answers' texts (and, for similarity, their embeddings); the
strategies of :mod:`promptdeck.core.compare.ensembles` decide with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptdeck.safeload.answers import parse_answer_json

if TYPE_CHECKING:
    from promptdeck.core.gateway.semantic import Embedder

__all__ = [
    "agreement_matrix",
    "consensus_score",
    "most_central",
    "normalise_answer",
    "parse_citations",
]

_TRAILING = re.compile(r"[\s.!?;:,]+$")
_SPACES = re.compile(r"\s+")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_USED = re.compile(r"^\s*used\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


def normalise_answer(text: str) -> str:
    """The form answers are counted in by ``majority``.

    JSON (optionally in a fenced block) is canonicalised: keys sorted, no spaces.
    Other text is stripped, lower-cased, spaces collapsed and trailing punctuation
    dropped.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    candidate = fenced.group(1) if fenced else stripped
    if candidate[:1] in '{["':
        try:
            value = parse_answer_json(candidate)
        except ValueError:  # not JSON, or past the limits: counted as text
            pass
        else:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _TRAILING.sub("", _SPACES.sub(" ", stripped.lower()))


def agreement_matrix(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Pairwise cosine similarities of ``texts`` (rows are unit-norm embeddings)."""
    if not texts:
        return []
    vectors = embedder.embed(list(texts))
    product = vectors @ vectors.T
    return [[round(float(v), 6) for v in row] for row in product]


def consensus_score(matrix: Sequence[Sequence[float]]) -> float:
    """The mean off-diagonal similarity (1.0 for a single answer)."""
    n = len(matrix)
    if n < 2:
        return 1.0
    total = sum(matrix[i][j] for i in range(n) for j in range(n) if i != j)
    return total / (n * (n - 1))


def most_central(matrix: Sequence[Sequence[float]]) -> int:
    """The index of the answer most similar, on average, to the others."""
    n = len(matrix)
    if n < 2:
        return 0
    means = [sum(matrix[i][j] for j in range(n) if j != i) / (n - 1) for i in range(n)]
    return max(range(n), key=lambda i: means[i])


def parse_citations(text: str, members: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Split a judge's answer into the final text and the members it cites.

    The judge ends with a line ``Used: 1, 3`` (answer numbers, 1-based); member
    names are accepted too.
    """
    found = list(_USED.finditer(text))
    if not found:
        return text.strip(), ()
    match = found[-1]
    cited: list[str] = []
    for token in re.split(r"[,\s]+", match.group(1).strip()):
        token = token.strip("[]()#.")
        if token.isdigit() and 1 <= int(token) <= len(members):
            name = members[int(token) - 1]
        elif token in members:
            name = token
        else:
            continue
        if name not in cited:
            cited.append(name)
    body = (text[: match.start()] + text[match.end() :]).strip()
    return body, tuple(cited)

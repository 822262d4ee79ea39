"""Near-duplicate cases within a suite and across suites.

Duplicates inflate a suite's pass rate (one input counted twice) and leak between
tuning and test sets (the same input in both). Each case's input, its variables
without the suite's shared defaults, is embedded by the local embedder; pairs whose
cosine similarity reaches the threshold are reported with both files and lines.
Cases of one suite with exactly the same variables are left alone: that is the
same input checked in different ways, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptdeck.core.evals.suites import Case, LoadedSuite

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["MAX_PAIRS", "NearDuplicate", "case_input", "near_duplicates"]

MAX_PAIRS = 200
"""At most this many pairs are reported (the most similar first)."""
_BLOCK = 1024


@dataclass(frozen=True)
class NearDuplicate:
    """Two cases alike enough to be one.

    Attributes:
        first: Where the first is defined (``file:line``).
        second: Where the second is (``file:line``).
        first_suite: The first's suite.
        second_suite: The second's suite.
        similarity: Their cosine similarity.
    """

    first: str
    second: str
    first_suite: str
    second_suite: str
    similarity: float


def case_input(case: Case, defaults: dict[str, Any]) -> str:
    """The text a case's input is compared by: its own variables, ``name: value`` lines."""
    own = {k: v for k, v in case.vars.items() if k not in defaults or defaults[k] != v}
    return "\n".join(f"{key}: {own[key]}" for key in sorted(own))


def near_duplicates(
    suites: Sequence[LoadedSuite],
    embed: Callable[[Sequence[str]], NDArray[np.float32]],
    threshold: float,
    *,
    only: str | None = None,
) -> list[NearDuplicate]:
    """Pairs of cases whose inputs' cosine similarity is at least ``threshold``.

    Args:
        suites: The suites to compare (each with the others and itself).
        embed: texts -> L2-normalised vectors.
        threshold: The similarity from which two cases count as duplicates.
        only: Report only pairs involving this suite.

    Returns:
        The pairs, most similar first (at most :data:`MAX_PAIRS`).
    """
    import numpy as np

    entries: list[tuple[str, Case, str]] = []
    for suite in suites:
        for case in suite.cases:
            text = case_input(case, dict(suite.file.defaults.vars))
            if text:
                entries.append((suite.name, case, text))
    if len(entries) < 2:
        return []
    vectors = np.asarray(embed([text for _, _, text in entries]), dtype=np.float32)
    found: list[NearDuplicate] = []
    for start in range(0, len(entries), _BLOCK):
        block = vectors[start : start + _BLOCK] @ vectors.T
        rows, cols = np.nonzero(block >= threshold)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if col <= i:
                continue
            (suite_a, a, _), (suite_b, b, _) = entries[i], entries[col]
            if only is not None and only not in (suite_a, suite_b):
                continue
            if suite_a == suite_b and a.vars == b.vars:
                continue
            score = min(1.0, float(block[row, col]))
            found.append(NearDuplicate(a.source, b.source, suite_a, suite_b, score))
    found.sort(key=lambda d: -d.similarity)
    return found[:MAX_PAIRS]

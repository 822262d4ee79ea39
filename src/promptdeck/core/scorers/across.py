"""Assertions graded across a case's outputs: promptfoo's ``select-best`` and ``max-score``.

Both compare every output of one case (all its prompts × models, one repeat at a
time), so they cannot be graded as each output arrives: an eval run grades them
once a case's cells are all done (:mod:`promptdeck.core.evals.case_grading`).

- ``select-best``: the suite's judge is shown the outputs, numbered from 0, and the
  criterion (the assertion's ``value``), and answers with the number of the best.
  The chosen output passes (score 1), the others fail (score 0).
- ``max-score``: each output's other assertions are combined into one score (their
  weighted mean, or with ``method: sum`` their weighted sum; ``weights`` by assertion
  type, 1 by default); the highest passes, the first one on a tie. With a
  ``threshold`` no output passes unless the highest reaches it.

``not-`` flips them as any type: the chosen output fails, the others pass. A judge
that fails, or answers no output's number, fails every output with an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promptdeck.core.scorers.base import AssertionContext, Outcome, Score, as_text, assertion
from promptdeck.core.scorers.graded import ask_judge

if TYPE_CHECKING:
    from promptdeck.core.evals.suites import AssertionSpec, Case

__all__ = ["ACROSS", "is_across", "max_score", "placement_problem", "select_best"]

ACROSS = frozenset({"select-best", "max-score"})
"""The assertion types graded across a case's outputs."""

_STAGE = "is graded across a case's outputs, by an eval run once they are all done"


def is_across(spec: AssertionSpec) -> bool:
    """True for an assertion graded across a case's outputs (``select-best``, ``max-score``)."""
    return spec.base_type in ACROSS


def _criteria(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "the value must be the criterion to choose the best output by (a non-empty string)"


def _max_score_value(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return "the value must be a mapping (`method`, `weights`, `threshold`), or left out"
    unknown = sorted(set(value) - {"method", "weights", "threshold"})
    if unknown:
        return f"unknown key(s) {', '.join(map(str, unknown))}: use method, weights, threshold"
    if value.get("method", "average") not in ("average", "sum"):
        return "`method` must be `average` or `sum`"
    weights = value.get("weights", {})
    if not isinstance(weights, dict) or not all(
        isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
        for w in weights.values()
    ):
        return "`weights` must map assertion types to numbers ≥ 0"
    threshold = value.get("threshold")
    if threshold is not None and (
        not isinstance(threshold, int | float) or isinstance(threshold, bool)
    ):
        return "`threshold` must be a number"
    return None


@assertion("select-best", value="required", check=_criteria)
async def select_best_one(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The judge chooses this output as the best of its case's outputs for the criterion."""
    raise ValueError(f"select-best {_STAGE}")


@assertion("max-score", value="optional", check=_max_score_value)
def max_score_one(output: str, ctx: AssertionContext) -> Outcome:
    """This output's other assertions score highest among its case's outputs."""
    raise ValueError(f"max-score {_STAGE}")


def placement_problem(spec: AssertionSpec, case: Case | None, in_set: bool = False) -> str | None:
    """What is wrong with where an across-outputs assertion stands (None: nothing)."""
    if not is_across(spec):
        return None
    if in_set:
        return f"`{spec.base_type}` cannot be in an assert-set: it {_STAGE}"
    if spec.base_type == "max-score" and case is not None and all(map(is_across, case.asserts)):
        return "max-score needs other assertions in the case to combine"
    return None


def _finish(spec: AssertionSpec, chosen: bool, reason: str) -> Score:
    passed = chosen != spec.negated
    if spec.negated:
        reason = f"negated: {reason}"
    return Score(spec.metric or spec.type, spec.type, float(passed), passed, reason, spec.weight)


def _failed(spec: AssertionSpec, count: int, error: str) -> list[Score]:
    name = spec.metric or spec.type
    return [
        Score(name, spec.type, 0.0, False, f"not graded: {error}", spec.weight, error)
        for _ in range(count)
    ]


_SELECT = """You compare several outputs written for the same input and choose the one \
that best meets a criterion.
Criterion: {criteria}

{outputs}

Reply with the number of the best output (0 to {last}) and nothing else."""


async def select_best(spec: AssertionSpec, outputs: Sequence[str], judge: Any) -> list[Score]:
    """Grade ``select-best`` over a case's outputs: one score per output, in order."""
    if len(outputs) == 1:
        return [_finish(spec, True, "the only output of its case")]
    numbered = "\n\n".join(f'<Output index="{i}">\n{o}\n</Output>' for i, o in enumerate(outputs))
    prompt = _SELECT.format(criteria=as_text(spec.value), outputs=numbered, last=len(outputs) - 1)
    try:
        if judge is None:
            raise ValueError("no judge to ask (set `judge:` in the suite)")
        answer = await ask_judge(judge, prompt)
        found = re.search(r"\d+", answer)
        if found is None or not 0 <= int(found.group()) < len(outputs):
            raise ValueError(f"the judge answered no output's number: {answer[:80]!r}")
        best = int(found.group())
    except Exception as exc:  # the judge's failure is these cells' error, not the run's
        return _failed(spec, len(outputs), f"{type(exc).__name__}: {exc}")
    return [
        _finish(
            spec,
            i == best,
            f"chosen as the best of {len(outputs)} outputs"
            if i == best
            else f"output {best} of {len(outputs)} was chosen",
        )
        for i in range(len(outputs))
    ]


def max_score(spec: AssertionSpec, others: Sequence[Sequence[Score]]) -> list[Score]:
    """Grade ``max-score`` over a case's outputs, given each output's other scores."""
    value = spec.value if isinstance(spec.value, dict) else {}
    weights: dict[str, float] = {str(k): float(v) for k, v in value.get("weights", {}).items()}
    method = value.get("method", "average")
    threshold: float | None = (
        float(value["threshold"]) if value.get("threshold") is not None else None
    )
    totals: list[float] = []
    for graded in others:
        pairs = [(s.value, weights.get(s.type, weights.get(s.type.removeprefix("not-"), 1.0)))
                 for s in graded]  # fmt: skip
        total = sum(v * w for v, w in pairs)
        weight = sum(w for _, w in pairs)
        totals.append(total if method == "sum" else (total / weight if weight > 0 else 0.0))
    if not totals:
        return []
    top = max(totals)
    best = totals.index(top)
    if threshold is not None and top < threshold - 1e-9:
        best = -1
    scores: list[Score] = []
    for i, total in enumerate(totals):
        if i == best:
            reason = f"score {total:.2f}, the highest of {len(totals)} outputs"
        elif best == -1:
            reason = f"score {total:.2f}; no output reached {threshold:g}"
        else:
            reason = f"score {total:.2f}; output {best} scored {top:.2f}"
        scores.append(_finish(spec, i == best, reason))
    return scores

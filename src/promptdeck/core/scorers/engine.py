"""Validate assertions before a run, grade outputs, and combine grades into a case score.

Negation is handled here, once for every type: ``not-<type>`` flips ``passed``
and replaces ``value`` by ``1 - value``. A score that could not be graded (an
``error``) is never flipped: it fails either way.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers.across import is_across, placement_problem
from promptdeck.core.scorers.base import (
    REGISTRY,
    AssertionContext,
    AssertionType,
    CallMeta,
    Outcome,
    Score,
    ScoringOptions,
    Ungradable,
)
from promptdeck.errors import ConfigError

__all__ = [
    "CaseGrade",
    "a_evaluate",
    "a_grade_case",
    "assertion_type",
    "case_score",
    "check_cases",
    "evaluate",
    "requires_judge",
    "validate",
]

_DEFAULT_OPTIONS = ScoringOptions()
_HINT = "see docs/formats.md for the assertion types and their values"
ASSERT_SET = "assert-set"
"""A group of assertions (its ``assert:`` list) graded as one (see :func:`_grade_set`)."""


def _problem(
    spec: AssertionSpec, case: Case | None, problem: str, hint: str = _HINT
) -> ConfigError:
    where = f"{case.source}: " if case is not None else ""
    return ConfigError(f"{where}assertion `{spec.type}`: {problem}", hint)


def assertion_type(spec: AssertionSpec, case: Case | None = None) -> AssertionType:
    """Return the registered type of a spec (``not-`` removed).

    Raises:
        ConfigError: For an unknown type, suggesting the closest known names.
    """
    found = REGISTRY.get(spec.base_type)
    if found is not None:
        return found
    close = difflib.get_close_matches(spec.base_type, [*REGISTRY, ASSERT_SET], n=3, cutoff=0.6)
    prefix = "not-" if spec.negated else ""
    hint = (
        "did you mean " + " or ".join(f"`{prefix}{c}`" for c in close) + "?"
        if close
        else "known types: " + ", ".join(sorted([*REGISTRY, ASSERT_SET]))
    )
    raise _problem(spec, case, "unknown assertion type", hint)


def requires_judge(spec: AssertionSpec) -> bool:
    """Return True when the spec's type is model-graded (it needs a judge model)."""
    if spec.base_type == ASSERT_SET:
        return any(requires_judge(member) for member in spec.asserts or ())
    found = REGISTRY.get(spec.base_type)
    return found is not None and found.needs_judge


def _threshold_problem(kind: AssertionType, threshold: float | None) -> str | None:
    if threshold is None:
        return None
    if kind.default_threshold is None:
        return f"`{kind.name}` takes no threshold"
    if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        return f"threshold must be between 0 and 1, not {threshold}"
    return None


def validate(
    spec: AssertionSpec, case: Case | None = None, options: ScoringOptions | None = None
) -> None:
    """Check an assertion before any model call.

    Args:
        spec: The assertion.
        case: The case it belongs to, when known: then a type that falls back to the
            case's ``expected`` (or needs its ``context``) is checked against it, and
            the error names the case's file and line.
        options: Workspace settings (``python`` assertions need ``allow_python``).

    Raises:
        ConfigError: Naming the problem: an unknown type (with a close match), a
            missing or unexpected value, a bad value (regex, schema, bounds), a bad
            threshold, or a ``python`` assertion the workspace does not allow.
    """
    if spec.base_type == ASSERT_SET:
        _validate_set(spec, case, options)
        return
    if spec.asserts is not None:
        raise _problem(spec, case, "only an `assert-set` takes an `assert:` list")
    kind = assertion_type(spec, case)
    problem = _threshold_problem(kind, spec.threshold)
    if problem is None:
        problem = _value_problem(kind, spec, case)
    if problem is None:
        problem = placement_problem(spec, case)
    if problem is None and kind.needs_context and case is not None and not case.context:
        problem = "needs the case's `context` (the passages to check the answer against)"
    if problem is not None:
        raise _problem(spec, case, problem)
    if kind.name == "python":
        from promptdeck.core.scorers.python_fn import check_python

        def make(problem: str, hint: str) -> ConfigError:
            return _problem(spec, case, problem, hint)

        check_python(spec.value, options or _DEFAULT_OPTIONS, make)


def _validate_set(spec: AssertionSpec, case: Case | None, options: ScoringOptions | None) -> None:
    problem = None
    if spec.negated:
        problem = "an `assert-set` cannot be negated (negate its members)"
    elif spec.value is not None:
        problem = "an `assert-set` takes no value: list its members under `assert:`"
    elif not spec.asserts:
        problem = "needs a non-empty `assert:` list of member assertions"
    elif spec.threshold is not None and not (
        math.isfinite(spec.threshold) and 0.0 <= spec.threshold <= 1.0
    ):
        problem = f"threshold must be between 0 and 1, not {spec.threshold}"
    if problem is not None:
        raise _problem(spec, case, problem)
    for member in spec.asserts or ():
        inside = placement_problem(member, case, in_set=True)
        if inside is not None:
            raise _problem(member, case, inside)
        validate(member, case, options)


def _value_problem(kind: AssertionType, spec: AssertionSpec, case: Case | None) -> str | None:
    value = spec.value
    if kind.value == "none" and value is not None:
        return f"`{kind.name}` takes no value"
    if kind.value == "required" and value is None:
        return "needs a `value`"
    if kind.value == "expected" and value is None:
        if case is None or case.expected is None:
            return (
                "needs a `value`, or an `expected` answer in the case" if case is not None else None
            )
        problem = kind.check(case.expected) if kind.check is not None else None
        return None if problem is None else f"the case's `expected` does not fit: {problem}"
    if value is not None and kind.check is not None:
        return kind.check(value)
    return None


def check_cases(cases: Iterable[Case], options: ScoringOptions | None = None) -> list[ConfigError]:
    """Validate every assertion of every case; return one error per problem.

    Args:
        cases: The suite's cases.
        options: Workspace settings.

    Returns:
        The problems found (empty when the suite can run), each naming the case's
        file and line.
    """
    errors: list[ConfigError] = []
    for case in cases:
        for spec in case.asserts:
            try:
                validate(spec, case, options)
            except ConfigError as exc:
                errors.append(exc)
    return errors


def _context(
    kind: AssertionType, spec: AssertionSpec, case: Case, meta: CallMeta, options: ScoringOptions
) -> AssertionContext:
    value = spec.value
    if value is None and kind.value == "expected":
        value = case.expected
    threshold = spec.threshold if spec.threshold is not None else kind.default_threshold
    return AssertionContext(spec, case, meta, options, value, threshold)


def _finish(spec: AssertionSpec, outcome: Outcome | None, error: str | None = None) -> Score:
    name = spec.metric or spec.type
    if outcome is None:
        return Score(name, spec.type, 0.0, False, f"not graded: {error}", spec.weight, error)
    value = min(1.0, max(0.0, float(outcome.value))) if math.isfinite(outcome.value) else 0.0
    passed, reason = outcome.passed, outcome.reason
    if spec.negated:
        value, passed, reason = 1.0 - value, not passed, f"negated: {reason}"
    return Score(name, spec.type, value, passed, reason, spec.weight)


def evaluate(
    spec: AssertionSpec,
    output: str,
    case: Case,
    meta: CallMeta,
    options: ScoringOptions | None = None,
) -> Score:
    """Grade one output against one local (not model-graded) assertion.

    A scorer that raises gives a failed :class:`Score` with ``error`` set (errors
    are values); configuration problems still raise.

    Args:
        spec: The assertion (validated beforehand with :func:`validate`).
        output: The model's answer.
        case: The case.
        meta: Latency, cost, tokens and input of the call.
        options: Workspace settings.

    Returns:
        The score, negation applied.

    Raises:
        ConfigError: For an unknown type, a model-graded type (use
            :func:`a_evaluate`), or a ``python`` assertion the workspace forbids.
    """
    if spec.base_type == ASSERT_SET:
        members = [evaluate(m, output, case, meta, options) for m in spec.asserts or ()]
        return _grade_set(spec, members)
    kind = assertion_type(spec, case)
    if kind.scorer is None:
        raise _problem(spec, case, "is model-graded: grade it with a_evaluate and a judge")
    ctx = _context(kind, spec, case, meta, options or _DEFAULT_OPTIONS)
    try:
        outcome = kind.scorer(output, ctx)
    except ConfigError:
        raise
    except Ungradable as exc:
        return _finish(spec, None, str(exc))
    except Exception as exc:  # a scorer's failure is this cell's error, not the run's
        return _finish(spec, None, f"{type(exc).__name__}: {exc}")
    return _finish(spec, outcome)


async def a_evaluate(
    spec: AssertionSpec,
    output: str,
    case: Case,
    meta: CallMeta,
    judge: Any = None,
    options: ScoringOptions | None = None,
) -> Score:
    """Grade one output against any assertion, model-graded ones included.

    Local types are graded as by :func:`evaluate`; model-graded types call the
    deepeval metric's ``a_measure`` with ``judge``. A judge failure (invalid JSON,
    a failed call) gives a failed score with ``error`` set.

    Args:
        spec: The assertion.
        output: The model's answer.
        case: The case.
        meta: Latency, cost, tokens and input of the call.
        judge: A ``deepeval.models.DeepEvalBaseLLM``; required for model-graded types.
        options: Workspace settings.

    Returns:
        The score, negation applied.

    Raises:
        ConfigError: For an unknown type, or a model-graded type without a judge.
    """
    if spec.base_type == ASSERT_SET:
        members = [
            await a_evaluate(m, output, case, meta, judge, options) for m in spec.asserts or ()
        ]
        return _grade_set(spec, members)
    kind = assertion_type(spec, case)
    if kind.judged is None:
        return evaluate(spec, output, case, meta, options)
    if judge is None:
        raise _problem(spec, case, "is model-graded and needs a judge", "set `judge:` in the suite")
    ctx = _context(kind, spec, case, meta, options or _DEFAULT_OPTIONS)
    try:
        outcome = await kind.judged(output, ctx, judge)
    except ConfigError:
        raise
    except Exception as exc:  # the judge's failure is this cell's error, not the run's
        return _finish(spec, None, f"{type(exc).__name__}: {exc}")
    return _finish(spec, outcome)


def _grade_set(spec: AssertionSpec, members: Sequence[Score]) -> Score:
    """An ``assert-set``'s grade: the weighted mean of its members' values.

    As promptfoo grades it: the set passes when every member passes or, with a
    ``threshold``, when the weighted mean reaches it; a member of weight 0 counts
    as passed. A member that could not be graded fails the set only through its
    value (0) and pass (false).
    """
    total = sum(m.weight for m in members)
    value = sum(m.value * m.weight for m in members) / total if total > 0 else 1.0
    passed_all = all(m.passed or m.weight == 0 for m in members)
    if spec.threshold is None:
        passed = passed_all
        rule = "every member must pass"
    else:
        passed = value >= spec.threshold - 1e-9
        rule = f"score {value:.2f} {'≥' if passed else '<'} {spec.threshold:g}"
    ok = sum(1 for m in members if m.passed)
    failing = "; ".join(f"{m.name}: {m.reason}" for m in members if not m.passed)
    reason = f"{ok}/{len(members)} passed ({rule})" + (f"; {failing}" if failing else "")
    return Score(spec.metric or spec.type, spec.type, value, passed, reason, spec.weight)


def case_score(scores: Sequence[Score], threshold: float = 1.0) -> tuple[float, bool]:
    """Combine a case's assertion scores into its score and verdict.

    The case score is the weighted share of assertions that passed,
    ``sum(w_i * passed_i) / sum(w_i)``; the case passes when it reaches the suite's
    threshold (1.0, the default, means every weighted assertion must pass). When all
    weights are zero the share is unweighted. A case without assertions scores 1.

    Args:
        scores: The case's scores.
        threshold: The suite threshold in [0, 1].

    Returns:
        ``(score, passed)``.
    """
    if not scores:
        return 1.0, True
    total = sum(s.weight for s in scores)
    if total > 0:
        score = sum(s.weight for s in scores if s.passed) / total
    else:
        score = sum(1 for s in scores if s.passed) / len(scores)
    return score, score >= threshold - 1e-9


@dataclass(frozen=True)
class CaseGrade:
    """All the grades of one output of a case.

    Attributes:
        scores: One score per assertion of the case, in order.
        score: The weighted case score (see :func:`case_score`).
        passed: Whether the case reached the threshold.
    """

    scores: tuple[Score, ...]
    score: float
    passed: bool


async def a_grade_case(
    case: Case,
    output: str,
    meta: CallMeta,
    *,
    threshold: float = 1.0,
    judge: Any = None,
    options: ScoringOptions | None = None,
) -> CaseGrade:
    """Grade one output against every assertion of its case, then score the case.

    Assertions run one after the other (a judge is asked in order); local ones are
    quick, but ``similar`` runs the embedder on this thread. Assertions graded across
    the case's outputs (``select-best``, ``max-score``) are left out: an eval run
    grades them once the case's outputs are all in.

    Args:
        case: The case (its ``asserts`` are graded).
        output: The model's answer.
        meta: Latency, cost, tokens and input of the call.
        threshold: The suite threshold.
        judge: The deepeval judge, required when the case has model-graded assertions.
        options: Workspace settings.

    Returns:
        The scores, the case score and the verdict.

    Raises:
        ConfigError: As :func:`a_evaluate`.
    """
    scores = tuple(
        [
            await a_evaluate(spec, output, case, meta, judge, options)
            for spec in case.asserts
            if not is_across(spec)
        ]
    )
    score, passed = case_score(scores, threshold)
    return CaseGrade(scores, score, passed)

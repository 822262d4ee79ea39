"""Assertion types and grading: one registry, one entry point, negation handled once.

Importing this package registers every built-in type (deterministic, overlap,
semantic, guard, python and model-graded); none of them imports deepeval, numpy or
onnxruntime until it grades something.
"""

from __future__ import annotations

from promptdeck.core.scorers import (
    deterministic,
    guard,
    judged,
    overlap,
    python_fn,
    semantic,
)
from promptdeck.core.scorers.base import (
    REGISTRY,
    AssertionContext,
    AssertionType,
    CallMeta,
    EmbedderLike,
    JudgedScorer,
    Outcome,
    Score,
    Scorer,
    ScoringOptions,
    assertion,
)
from promptdeck.core.scorers.engine import (
    CaseGrade,
    a_evaluate,
    a_grade_case,
    assertion_type,
    case_score,
    check_cases,
    evaluate,
    requires_judge,
    validate,
)
from promptdeck.core.scorers.judged import judge_warning

__all__ = [
    "REGISTRY",
    "AssertionContext",
    "AssertionType",
    "CallMeta",
    "CaseGrade",
    "EmbedderLike",
    "JudgedScorer",
    "Outcome",
    "Score",
    "Scorer",
    "ScoringOptions",
    "a_evaluate",
    "a_grade_case",
    "assertion",
    "assertion_type",
    "case_score",
    "check_cases",
    "evaluate",
    "judge_warning",
    "requires_judge",
    "validate",
]

_BUILTIN_MODULES = (deterministic, guard, judged, overlap, python_fn, semantic)

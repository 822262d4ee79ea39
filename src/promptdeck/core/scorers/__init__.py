"""Assertion types and grading: one registry, one entry point, negation handled once.

Importing this package registers every built-in type (deterministic, structured,
overlap, semantic, guard, python, perplexity and model-graded: deepeval's and
promptfoo's); none of them imports deepeval, numpy or onnxruntime until it grades
something.
"""

from __future__ import annotations

from promptdeck.core.scorers import (
    across,
    deterministic,
    graded,
    guard,
    judged,
    overlap,
    perplexity,
    python_fn,
    rag,
    semantic,
    structured,
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

_BUILTIN_MODULES = (
    across,
    deterministic,
    graded,
    guard,
    judged,
    overlap,
    perplexity,
    python_fn,
    rag,
    semantic,
    structured,
)

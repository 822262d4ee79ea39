"""promptfoo's model-graded types and assert-set: the judge's answers and the pass rules."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import CallMeta, ScoringOptions, a_evaluate, requires_judge, validate
from promptdeck.errors import ConfigError

CASE = Case(
    key="k",
    index=0,
    source="suites/pf.suite.yaml:9",
    vars={"query": "What is the capital of France?"},
    expected="Paris is the capital of France.",
    context=["Paris is the capital of France. It has 2.1 million residents."],
)
META = CallMeta(input="What is the capital of France?")


class Judge:
    """Answers each question with the next scripted reply; records the questions."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    async def a_generate(self, prompt: str, schema: Any = None) -> str:
        self.prompts.append(prompt)
        return self.replies.pop(0)


class Embedder:
    """Texts mentioning Paris point one way, everything else another."""

    def embed(self, texts: Sequence[str]) -> Any:
        return np.array([[1.0, 0.0] if "capital" in t else [0.0, 1.0] for t in texts])


def grade(kind: str, value: Any, judge: Judge, threshold: float | None = None) -> Any:
    spec = AssertionSpec(type=kind, value=value, threshold=threshold)
    validate(spec, CASE)
    options = ScoringOptions(embedder=Embedder())
    return asyncio.run(a_evaluate(spec, "Paris.", CASE, META, judge, options))


@pytest.mark.parametrize(
    ("reply", "threshold", "passed", "value"),
    [
        ('{"reason": "greets", "pass": true, "score": 1.0}', None, True, 1.0),
        ('```json\n{"reason": "no", "pass": false, "score": 0.0}\n```', None, False, 0.0),
        ('{"reason": "meh", "score": 0.0}', None, True, 0.0),  # pass defaults to true
        ('{"reason": "meh", "pass": true, "score": 0.4}', 0.5, False, 0.4),
        ('{"reason": "ok", "pass": true, "score": 0.6}', 0.5, True, 0.6),
        ('{"reason": "ok", "pass": false, "score": 0.9}', 0.5, False, 0.9),
    ],
)
def test_llm_rubric_pass_rules(
    reply: str, threshold: float | None, passed: bool, value: float
) -> None:
    judge = Judge(reply)
    score = grade("llm-rubric", "Mentions the capital", judge, threshold)
    assert (score.passed, score.value, score.error) == (passed, value, None)
    assert "Mentions the capital" in judge.prompts[0] and "Paris." in judge.prompts[0]


def test_a_judge_answer_out_of_shape_is_an_error_not_a_pass() -> None:
    score = grade("llm-rubric", "x", Judge("stub answer"))
    assert score.error is not None and not score.passed


@pytest.mark.parametrize(
    ("reply", "passed"), [("It names Paris.\nY", True), ("Wrong.\nN\nN", False)]
)
def test_closedqa_reads_the_last_letter(reply: str, passed: bool) -> None:
    judge = Judge(reply)
    score = grade("model-graded-closedqa", "names the capital", judge)
    assert score.passed is passed
    assert "What is the capital of France?" in judge.prompts[0]


@pytest.mark.parametrize(
    ("reply", "passed"),
    [
        ('{"category": "A", "reason": "subset"}', True),
        ('{"category": "(C)", "reason": "same"}', True),
        ('{"category": "D", "reason": "disagrees"}', False),
        ("I pick (E)", True),
    ],
)
def test_factuality_fails_only_on_disagreement(reply: str, passed: bool) -> None:
    judge = Judge(reply)
    score = grade("factuality", None, judge)  # the case's expected is the reference
    assert score.passed is passed
    assert "Paris is the capital of France." in judge.prompts[0]


def test_context_metrics_score_the_share_supported() -> None:
    recall = grade(
        "context-recall",
        "Paris is the capital. It has 9 million people.",
        Judge('{"verdicts": ["yes", "no"]}'),
        0.6,
    )
    assert (recall.value, recall.passed) == (0.5, False)
    faithful = grade("context-faithfulness", None, Judge('{"verdicts": ["yes"]}'))
    assert (faithful.value, faithful.passed) == (1.0, True)
    relevance = grade("context-relevance", None, Judge('{"verdicts": ["yes", "no"]}'), 0.5)
    assert (relevance.value, relevance.passed) == (0.5, True)
    wrong = grade("context-faithfulness", None, Judge('{"verdicts": ["yes", "no", "no"]}'))
    assert wrong.error is not None


def test_answer_relevance_embeds_the_judges_questions() -> None:
    judge = Judge('{"questions": ["Which city is the capital?", "Where is it?", "capital?"]}')
    score = grade("answer-relevance", None, judge, 0.5)
    assert score.value == pytest.approx(2 / 3) and score.passed


def test_assert_set_threshold_weights_and_judge() -> None:
    spec = AssertionSpec.model_validate(
        {
            "type": "assert-set",
            "threshold": 0.5,
            "metric": "quality",
            "assert": [
                {"type": "contains", "value": "Paris"},
                {"type": "not-contains", "value": "Paris", "weight": 3},
                {"type": "llm-rubric", "value": "is short"},
            ],
        }
    )
    validate(spec, CASE)
    assert requires_judge(spec)
    judge = Judge('{"pass": true, "score": 1}')
    score = asyncio.run(a_evaluate(spec, "Paris.", CASE, META, judge))
    assert score.name == "quality" and score.value == pytest.approx(2 / 5)
    assert not score.passed and "2/3 passed" in score.reason
    no_threshold = spec.model_copy(update={"threshold": None, "asserts": spec.asserts[:1]})
    assert not requires_judge(no_threshold)
    assert asyncio.run(a_evaluate(no_threshold, "Paris.", CASE, META)).passed


@pytest.mark.parametrize(
    "data",
    [
        {"type": "assert-set"},
        {"type": "assert-set", "assert": []},
        {"type": "not-assert-set", "assert": [{"type": "contains", "value": "a"}]},
        {"type": "assert-set", "threshold": 2, "assert": [{"type": "contains", "value": "a"}]},
        {"type": "assert-set", "assert": [{"type": "nope"}]},
        {"type": "contains", "value": "a", "assert": [{"type": "contains", "value": "a"}]},
    ],
)
def test_bad_assert_sets_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"suites/pf\.suite\.yaml:9"):
        validate(AssertionSpec.model_validate(data), CASE)

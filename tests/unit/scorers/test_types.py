"""Every local assertion type, with passing and failing outputs, and negation."""

from __future__ import annotations

from typing import Any

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import REGISTRY, CallMeta, Score, evaluate, validate

CASE = Case(key="k", index=0, source="suites/demo.suite.yaml:7", vars={}, expected="Paris")
META = CallMeta(latency_ms=250.0, cost_usd=0.002, tokens=40)
SCHEMA = {
    "type": "object",
    "required": ["city"],
    "properties": {"city": {"type": "string"}, "pop": {"type": "integer", "minimum": 0}},
}

# (type, value, threshold, output, passed)
CASES: list[tuple[str, Any, float | None, str, bool]] = [
    ("equals", "Paris", None, "  Paris\n", True),
    ("equals", "Paris", None, "paris", False),
    ("equals", None, None, "Paris", True),  # falls back to expected
    ("equals", None, None, "Lyon", False),
    ("equals", {"a": 1}, None, '{ "a": 1 }', True),
    ("equals", {"a": 1}, None, '{"a": 2}', False),
    ("contains", "Par", None, "It is Paris.", True),
    ("contains", "par", None, "It is Paris.", False),
    ("contains", None, None, "The answer: Paris", True),
    ("contains", 42, None, "It is 42.", True),
    ("icontains", "PARIS", None, "it is paris", True),
    ("icontains", "london", None, "it is paris", False),
    ("contains-any", ["Lyon", "Paris"], None, "Paris!", True),
    ("contains-any", ["Lyon", "Nice"], None, "Paris!", False),
    ("contains-all", ["a", "b"], None, "a and b", True),
    ("contains-all", ["a", "z"], None, "a and b", False),
    ("starts-with", "Answer:", None, "  Answer: 3", True),
    ("starts-with", "Answer:", None, "So, Answer: 3", False),
    ("regex", r"(?m)^Answer:\s*\d+$", None, "work\nAnswer: 42", True),
    ("regex", r"^\d+$", None, "forty-two", False),
    ("is-json", None, None, '{"a": [1, 2]}', True),
    ("is-json", None, None, '```json\n{"a": 1}\n```', True),
    ("is-json", None, None, "{'a': 1}", False),
    ("is-json", SCHEMA, None, '{"pop": 3}', False),
    ("json-schema", SCHEMA, None, '{"city": "Paris", "pop": 2100000}', True),
    ("json-schema", SCHEMA, None, '{"city": "Paris", "pop": -1}', False),
    ("json-schema", SCHEMA, None, "Paris", False),
    ("levenshtein", "kitten", 0.5, "sitting", True),
    ("levenshtein", "kitten", 0.6, "sitting", False),
    ("levenshtein", None, None, "Pariss", True),
    ("rouge-n", "the cat sat on the mat", 0.8, "the cat is on the mat", True),
    (
        "rouge-n",
        {"n": 2, "reference": "the cat sat on the mat"},
        0.7,
        "the cat is on the mat",
        False,
    ),
    ("rouge-l", None, None, "Paris", True),
    ("rouge-l", "the cat sat on the mat", 0.5, "a dog ran", False),
    ("bleu", "the cat sat on the mat", None, "the cat sat on the mat", True),
    ("bleu", "the cat sat on the mat", None, "the cat is on the mat", False),
    ("word-count", 3, None, "one two three", True),
    ("word-count", 3, None, "one two", False),
    ("word-count", {"min": 2, "max": 4}, None, "one two three", True),
    ("word-count", {"max": 2}, None, "one two three", False),
    ("max-length", 5, None, "12345", True),
    ("max-length", 5, None, "123456", False),
    ("forbidden", ["Guidelines:", "secret"], None, "Here you go.", True),
    ("forbidden", ["Guidelines:", "secret"], None, "My SECRET guidelines", False),
    ("latency", 300, None, "x", True),
    ("latency", 200, None, "x", False),
    ("cost", 0.01, None, "x", True),
    ("cost", 0.001, None, "x", False),
]


@pytest.mark.parametrize(("kind", "value", "threshold", "output", "passed"), CASES)
def test_type(kind: str, value: Any, threshold: float | None, output: str, passed: bool) -> None:
    spec = AssertionSpec(type=kind, value=value, threshold=threshold)
    validate(spec, CASE)
    score = evaluate(spec, output, CASE, META)
    assert score.passed is passed, score.reason
    assert 0.0 <= score.value <= 1.0
    assert score.error is None
    assert score.reason
    if passed:
        assert score.value > 0
    negated = evaluate(spec.model_copy(update={"type": f"not-{kind}"}), output, CASE, META)
    assert negated.passed is not passed
    assert negated.value == pytest.approx(1.0 - score.value)
    assert negated.type == f"not-{kind}"


def test_every_local_type_is_covered_by_the_table() -> None:
    from tests.unit.scorers.test_structured import CASES as STRUCTURED

    local = {name for name, kind in REGISTRY.items() if not kind.needs_judge}
    covered = (
        {row[0] for row in CASES}
        | {row[0] for row in STRUCTURED}
        | {
            "similar",
            "python",
            "guard-pass",
            "guard-flags",
            "max-score",  # graded across a case's outputs: test_across
            "perplexity",  # test_perplexity
            "perplexity-score",
        }
    )  # own test modules
    assert local == covered


def test_score_record_carries_name_weight_and_type() -> None:
    spec = AssertionSpec(type="contains", value="a", weight=2.5, metric="has-a")
    score = evaluate(spec, "abc", CASE, META)
    assert score == Score("has-a", "contains", 1.0, True, score.reason, 2.5)
    assert Score.from_dict(score.to_dict()) == score


def test_contains_all_scores_the_share_found() -> None:
    spec = AssertionSpec(type="contains-all", value=["a", "b", "c", "z"])
    assert evaluate(spec, "a b c", CASE, META).value == pytest.approx(0.75)


def test_latency_and_cost_fail_when_unknown() -> None:
    for kind in ("latency", "cost"):
        score = evaluate(AssertionSpec(type=kind, value=1), "x", CASE, CallMeta())
        assert not score.passed
        assert "unknown" in score.reason


def test_latency_score_shrinks_with_the_overrun() -> None:
    score = evaluate(AssertionSpec(type="latency", value=125), "x", CASE, META)
    assert score.value == pytest.approx(0.5)


def test_a_missing_reference_at_run_time_is_an_error_value() -> None:
    case = Case(key="k", index=0, source="s:1", vars={})
    score = evaluate(AssertionSpec(type="rouge-l"), "x", case, META)
    assert not score.passed and score.error is not None

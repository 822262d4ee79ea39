"""Validation rejects a bad assertion before any call, naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import ScoringOptions, check_cases, validate
from promptdeck.errors import ConfigError

CASE = Case(key="k", index=0, source="suites/s.suite.yaml:12", vars={"text": "t"})


@pytest.mark.parametrize(
    ("kind", "value", "threshold", "message"),
    [
        ("contians", "x", None, "did you mean `contains`"),
        ("not-icontain", "x", None, "did you mean `not-icontains`"),
        ("zzzzzz", None, None, "known types: "),
        ("regex", None, None, "needs a `value`"),
        ("regex", "(unclosed", None, "invalid regular expression"),
        ("regex", 3, None, "regular expression"),
        ("contains-any", [], None, "non-empty list"),
        ("contains-any", "abc", None, "non-empty list"),
        ("forbidden", ["ok", ""], None, "cannot be empty"),
        ("contains", {"a": 1}, None, "string or a number"),
        ("json-schema", "object", None, "JSON Schema"),
        ("json-schema", {"type": "thing"}, None, "invalid JSON Schema"),
        ("is-json", {"type": "thing"}, None, "invalid JSON Schema"),
        ("word-count", {"min": 5, "max": 2}, None, "`min` is larger"),
        ("word-count", {"least": 2}, None, "`min` and/or `max`"),
        ("word-count", -1, None, "whole number"),
        ("max-length", 2.5, None, "whole number"),
        ("max-length", True, None, "whole number"),
        ("latency", -5, None, "0 or more"),
        ("levenshtein", "x", 1.5, "between 0 and 1"),
        ("similar", "x", -0.1, "between 0 and 1"),
        ("equals", "x", 0.5, "takes no threshold"),
        ("is-json", None, 0.5, "takes no threshold"),
        ("answer-relevancy", "x", None, "takes no value"),
        ("rouge-n", {"n": 7}, None, "from 1 to 4"),
        ("rouge-n", {"n": 2, "ref": "x"}, None, "only `n` and `reference`"),
        ("g-eval", 3, None, "criteria"),
        ("g-eval", [], None, "steps"),
        ("summarization", "not a name", None, "variable"),
        ("json-correctness", {"type": "array"}, None, "type: object"),
        ("python", "checks.py", None, "file.py:function"),
        ("levenshtein", None, None, "or an `expected` answer"),
        ("faithfulness", None, None, "needs the case's `context`"),
    ],
)
def test_bad_assertions_are_rejected(
    kind: str, value: Any, threshold: float | None, message: str
) -> None:
    spec = AssertionSpec(type=kind, value=value, threshold=threshold)
    with pytest.raises(ConfigError) as info:
        validate(spec, CASE, ScoringOptions(allow_python=True))
    text = f"{info.value.title} {info.value.hint}"
    assert message in text
    assert info.value.title.startswith(f"suites/s.suite.yaml:12: assertion `{kind}`")


def test_without_a_case_the_expected_fallback_is_not_checked() -> None:
    validate(AssertionSpec(type="levenshtein"))
    validate(AssertionSpec(type="faithfulness"))


def test_a_case_with_expected_satisfies_types_that_fall_back_to_it() -> None:
    case = Case(key="k", index=0, source="s:1", vars={}, expected="x", context=["c"])
    for kind in ("equals", "contains", "similar", "rouge-l", "bleu", "levenshtein"):
        validate(AssertionSpec(type=kind), case)
    validate(AssertionSpec(type="faithfulness"), case)


def test_check_cases_reports_every_problem_with_its_case() -> None:
    cases = [
        Case(
            key="a",
            index=0,
            source="suites/s.suite.yaml:4",
            vars={},
            asserts=[
                AssertionSpec(type="regex", value="("),
                AssertionSpec(type="contains", value="x"),
            ],
        ),
        Case(
            key="b",
            index=1,
            source="datasets/d.jsonl:2",
            vars={},
            asserts=[AssertionSpec(type="equalz", value="y")],
        ),
    ]
    errors = check_cases(cases)
    assert [e.title.split(": ")[0] for e in errors] == [
        "suites/s.suite.yaml:4",
        "datasets/d.jsonl:2",
    ]
    assert "did you mean `equals`" in errors[1].hint


def test_an_unfit_expected_is_named_as_such() -> None:
    case = Case(key="k", index=0, source="d.jsonl:3", vars={}, expected={"a": 1})
    with pytest.raises(ConfigError, match="the case's `expected` does not fit"):
        validate(AssertionSpec(type="contains"), case)
    validate(AssertionSpec(type="equals"), case)

"""perplexity and perplexity-score: promptfoo's formulas against hand-computed values.

Token logprobs [-0.1, -0.3, -0.2]: mean -0.2, perplexity e^0.2 = 1.2214027581601699,
perplexity-score 1 / (1 + 1.2214027581601699) = 0.45016600268752216.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.providers.logprobs import (
    FLOOR,
    Logprobs,
    LogprobSum,
    openai_token_logprobs,
)
from promptdeck.core.scorers import CallMeta, evaluate, validate
from promptdeck.core.scorers.perplexity import needs_logprobs
from promptdeck.errors import ConfigError

CASE = Case(key="k", index=0, source="suites/p.suite.yaml:3", vars={}, expected=None)
THREE = Logprobs(3, -0.6)
META = CallMeta(logprobs=THREE, model="openai/gpt-4o-mini")
PPL = 1.2214027581601699
NORM = 0.45016600268752216


def _grade(kind: str, meta: CallMeta = META, **spec: Any) -> Any:
    assertion = AssertionSpec(type=kind, **spec)
    validate(assertion, CASE)
    return evaluate(assertion, "three tokens here", CASE, meta)


def test_the_formulas_against_hand_computed_values() -> None:
    assert THREE.perplexity == pytest.approx(PPL, rel=1e-12)
    assert Logprobs(4, 0.0).perplexity == 1.0  # every token certain
    assert Logprobs(2, -2 * math.log(4)).perplexity == pytest.approx(4.0)  # p = 1/4 each
    score = _grade("perplexity-score")
    assert score.value == pytest.approx(NORM, rel=1e-12) and score.passed


@pytest.mark.parametrize(
    ("kind", "spec", "passed", "value"),
    [
        ("perplexity", {"value": 1.25}, True, 1.0),  # 1.2214 ≤ 1.25
        ("perplexity", {"value": 1.2}, False, 0.0),  # 1.2214 > 1.2
        ("perplexity", {"value": PPL}, True, 1.0),  # equal passes (≤)
        ("perplexity", {}, True, 1.0),  # no limit: passes, as in promptfoo
        ("not-perplexity", {"value": 1.2}, True, 1.0),
        ("perplexity-score", {"threshold": 0.45}, True, NORM),
        ("perplexity-score", {"threshold": 0.46}, False, NORM),
        ("perplexity-score", {}, True, NORM),  # no threshold: passes
        ("not-perplexity-score", {"threshold": 0.46}, True, 1 - NORM),
    ],
)
def test_pass_rules(kind: str, spec: dict[str, Any], passed: bool, value: float) -> None:
    score = _grade(kind, **spec)
    assert (score.passed, score.error) == (passed, None)
    assert score.value == pytest.approx(value, rel=1e-12)
    assert "1.221" in score.reason


@pytest.mark.parametrize("kind", ["perplexity", "not-perplexity", "perplexity-score"])
def test_no_logprobs_is_not_graded_and_names_the_model(kind: str) -> None:
    meta = CallMeta(model="anthropic/claude-3-5-haiku")
    score = _grade(kind, meta)
    assert not score.passed and score.value == 0.0  # never a pass, negated or not
    assert score.error is not None and "\n" not in score.reason
    assert score.reason.startswith("not graded: anthropic/claude-3-5-haiku gave no token logprobs")
    empty = _grade(kind, CallMeta(logprobs=Logprobs(0, 0.0), model="m"))
    assert not empty.passed and "no tokens" in empty.reason


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"type": "perplexity", "value": "low"}, "must be a number"),
        ({"type": "perplexity", "value": 0}, "positive"),
        ({"type": "perplexity", "value": math.inf}, "positive"),
        ({"type": "perplexity", "threshold": 0.5}, "takes no threshold"),
        ({"type": "perplexity-score", "value": 1}, "takes no value"),
        ({"type": "perplexity-score", "threshold": 2}, "between 0 and 1"),
    ],
)
def test_bad_specs_are_refused_before_any_call(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate(AssertionSpec(**spec), CASE)
    assert problem in caught.value.title and "suites/p.suite.yaml:3" in caught.value.title


def test_which_cases_need_logprobs() -> None:
    plain = [AssertionSpec(type="contains", value="a")]
    nested = AssertionSpec.model_validate(
        {"type": "assert-set", "assert": [{"type": "not-perplexity-score"}]}
    )
    assert not needs_logprobs(plain)
    assert needs_logprobs([*plain, AssertionSpec(type="perplexity", value=2)])
    assert needs_logprobs([nested])


def test_openai_logprobs_whole_and_streamed() -> None:
    choice = {"logprobs": {"content": [{"token": "a", "logprob": -0.1}, {"logprob": -0.5}]}}
    assert openai_token_logprobs(choice) == [-0.1, -0.5]
    assert openai_token_logprobs({"logprobs": None}) is None
    assert openai_token_logprobs({"logprobs": {"content": None}}) is None
    assert openai_token_logprobs({}) is None

    class Obj:  # litellm's objects
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    assert openai_token_logprobs(Obj(logprobs=Obj(content=[Obj(logprob=-2.0)]))) == [-2.0]

    summed = LogprobSum()
    for chunk in ([{"logprob": -0.1}], None, [{"logprob": -0.3}, {"logprob": -0.2}], []):
        summed.add(openai_token_logprobs({"logprobs": {"content": chunk} if chunk else None}))
    assert summed.result() == Logprobs(3, pytest.approx(-0.6))  # type: ignore[arg-type]
    nothing = LogprobSum()
    nothing.add(None)
    assert nothing.result() is None
    broken = LogprobSum()
    broken.add(openai_token_logprobs({"logprobs": {"content": [{"logprob": "x"}]}}))
    assert broken.result() is None  # never graded from a value that is not a number
    floored = LogprobSum()
    floored.add([-math.inf, 0.5])
    assert floored.result() == Logprobs(2, FLOOR)  # -inf floored, a positive value capped at 0


def test_json_round_trip_and_bad_shapes() -> None:
    assert Logprobs.from_json(THREE.to_json()) == THREE
    for bad in ({}, None, [], {"tokens": -1, "sum": 0}, {"tokens": 1, "sum": "x"}, {"tokens": 1}):
        assert Logprobs.from_json(bad) is None

"""select-best and max-score: graded across a case's outputs (with a scripted judge)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import CallMeta, Score, a_grade_case, validate
from promptdeck.core.scorers.across import max_score, select_best
from promptdeck.errors import ConfigError


class Judge:
    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    async def a_generate(self, prompt: str, schema: Any = None) -> str:
        self.prompts.append(prompt)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def _case(*asserts: dict[str, Any]) -> Case:
    specs = [AssertionSpec.model_validate(a) for a in asserts]
    return Case(key="k", index=0, source="s.suite.yaml:3", vars={}, asserts=specs)


def _spec(**data: Any) -> AssertionSpec:
    return AssertionSpec.model_validate(data)


def test_select_best_passes_the_chosen_output_only() -> None:
    judge = Judge("The best is 1.")
    scores = asyncio.run(
        select_best(_spec(type="select-best", value="funniest"), ["a", "b", "c"], judge)
    )
    assert [s.passed for s in scores] == [False, True, False]
    assert [s.value for s in scores] == [0.0, 1.0, 0.0]
    assert "funniest" in judge.prompts[0] and '<Output index="2">\nc' in judge.prompts[0]
    negated = asyncio.run(select_best(_spec(type="not-select-best", value="x"), ["a", "b"], judge))
    assert [s.passed for s in negated] == [True, False]


@pytest.mark.parametrize("reply", ["7", "none of them", RuntimeError("judge down")])
def test_select_best_fails_every_output_when_the_judge_does_not_choose(reply: Any) -> None:
    scores = asyncio.run(
        select_best(_spec(type="select-best", value="x"), ["a", "b"], Judge(reply))
    )
    assert all(not s.passed and s.error for s in scores)


def test_select_best_of_a_single_output_passes_without_asking() -> None:
    judge = Judge("0")
    (score,) = asyncio.run(select_best(_spec(type="select-best", value="x"), ["a"], judge))
    assert score.passed and not judge.prompts


def _scores(*pairs: tuple[str, float]) -> list[Score]:
    return [Score(t, t, v, v >= 0.5, "") for t, v in pairs]


def test_max_score_picks_the_highest_weighted_mean_first_on_ties() -> None:
    others = [
        _scores(("contains", 1.0), ("llm-rubric", 0.5)),
        _scores(("contains", 0.0), ("llm-rubric", 1.0)),
        _scores(("contains", 1.0), ("llm-rubric", 0.5)),
    ]
    plain = max_score(_spec(type="max-score"), others)
    assert [s.passed for s in plain] == [True, False, False]  # 0.75, 0.5, 0.75: first wins
    weighted = max_score(_spec(type="max-score", value={"weights": {"contains": 0}}), others)
    assert [s.passed for s in weighted] == [False, True, False]
    summed = max_score(_spec(type="max-score", value={"method": "sum"}), others)
    assert "1.50" in summed[0].reason
    high = max_score(_spec(type="max-score", value={"threshold": 0.9}), others)
    assert not any(s.passed for s in high) and "no output reached 0.9" in high[0].reason


def test_grading_one_output_leaves_them_to_the_run() -> None:
    case = _case({"type": "equals", "value": "a"}, {"type": "select-best", "value": "x"})
    grade = asyncio.run(a_grade_case(case, "a", CallMeta(), judge=Judge("0")))
    assert [s.type for s in grade.scores] == ["equals"] and grade.passed


@pytest.mark.parametrize(
    ("asserts", "problem"),
    [
        ([{"type": "max-score"}], "needs other assertions"),
        ([{"type": "is-json"}, {"type": "max-score", "value": {"method": "median"}}], "method"),
        ([{"type": "is-json"}, {"type": "max-score", "value": "x"}], "mapping"),
        ([{"type": "select-best"}], "needs a `value`"),
        (
            [{"type": "assert-set", "assert": [{"type": "select-best", "value": "x"}]}],
            "cannot be in an assert-set",
        ),
    ],
)
def test_misplaced_or_malformed_across_assertions_are_refused(
    asserts: list[dict[str, Any]], problem: str
) -> None:
    case = _case(*asserts)
    with pytest.raises(ConfigError, match=problem):
        for spec in case.asserts:
            validate(spec, case)

"""Model output parsed as JSON: deep or huge answers fail the check with a reason.

An answer nested 100,000 deep used to raise ``RecursionError`` out of the scorer
(an internal error in the cell, or a crash of ``guard``); a huge one was parsed
whole. Both are now a failed assertion (or a guardrail finding) that says why.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptdeck.core.compare.agreement import normalise_answer
from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.guardrails.base import ScanContext
from promptdeck.core.guardrails.output import scan_format
from promptdeck.core.scorers import CallMeta, evaluate
from promptdeck.core.scorers.graded import json_object
from promptdeck.core.scorers.structured import find_json
from promptdeck.safeload.answers import MAX_ANSWER_JSON_CHARS, JSONLimitError, parse_answer_json
from promptdeck.safeload.limits import MAX_DEPTH

CASE = Case(key="k", index=0, source="suites/s.suite.yaml:3", vars={}, expected=None)
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
JUST_TOO_DEEP = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
HUGE = "[" + ",".join(["0"] * (MAX_ANSWER_JSON_CHARS // 2 + 1)) + "]"
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
HOSTILE = [DEEP_ARRAY, DEEP_OBJECT, JUST_TOO_DEEP, HUGE, "```json\n" + DEEP_ARRAY + "\n```"]


def _ids(text: str) -> str:
    return f"{text[:6]}…{len(text)}"


@pytest.mark.parametrize("text", HOSTILE, ids=_ids)
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("is-json", None),
        ("is-json", {"type": "array"}),
        ("json-schema", {"type": "array"}),
        ("contains-json", None),
        ("equals", [1]),
        ("is-valid-openai-tools-call", TOOLS),
    ],
)
def test_scorers_fail_with_a_reason(kind: str, value: Any, text: str) -> None:
    score = evaluate(AssertionSpec(type=kind, value=value), text, CASE, CallMeta())
    assert not score.passed
    assert score.error is None, score.error
    if kind == "equals":  # not JSON to it: compared as text, and different
        return
    assert score.reason and ("deep" in score.reason or "characters" in score.reason), score.reason


def test_tool_call_arguments_nested_deep_fail_with_a_reason() -> None:
    call = [{"function": {"name": "f", "arguments": DEEP_ARRAY}}]
    score = evaluate(
        AssertionSpec(type="is-valid-openai-tools-call", value=TOOLS),
        json.dumps(call),
        CASE,
        CallMeta(),
    )
    assert not score.passed and score.error is None and "deep" in (score.reason or "")


def test_json_within_the_limits_still_parses() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_answer_json(ok) is not None
    assert find_json("see " + ok + ' and {"a": 1}') == [json.loads(ok), {"a": 1}]
    spec = AssertionSpec(type="is-json", value=None)
    assert evaluate(spec, ok, CASE, CallMeta()).passed


@pytest.mark.parametrize("text", HOSTILE, ids=_ids)
def test_parse_answer_json_raises_its_own_value_error(text: str) -> None:
    with pytest.raises(JSONLimitError):
        parse_answer_json(text.strip("`json\n"))


@pytest.mark.parametrize("text", HOSTILE, ids=_ids)
def test_the_json_format_guardrail_flags_it(text: str) -> None:
    verdict = scan_format(text, ScanContext(expect_json=True))
    assert verdict.flagged and ("deep" in verdict.reason or "characters" in verdict.reason)


@pytest.mark.parametrize("text", HOSTILE, ids=_ids)
def test_agreement_and_the_judge_reader_do_not_crash(text: str) -> None:
    assert isinstance(normalise_answer(text), str)
    with pytest.raises(ValueError):
        json_object("verdict: " + text)

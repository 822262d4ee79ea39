"""The structure and call-metadata types promptfoo suites use, passing and failing, negated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import CallMeta, evaluate, validate
from promptdeck.core.scorers.structured import find_json, find_xml, sql_problem
from promptdeck.errors import ConfigError
from promptdeck.safeload.answers import JSONLimitError

CASE = Case(key="k", index=0, source="suites/pf.suite.yaml:3", vars={}, expected=None)
META = CallMeta(latency_ms=10.0, cost_usd=0.0, tokens=5, finish_reason="stop")
LATLON = {
    "type": "object",
    "required": ["latitude", "longitude"],
    "properties": {"latitude": {"type": "number", "minimum": -90, "maximum": 90}},
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}},
            },
        },
    }
]
CALL = json.dumps(
    [{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]
)

# (type, value, meta, output, passed)
CASES: list[tuple[str, Any, CallMeta, str, bool]] = [
    ("icontains-any", ["paris", "LYON"], META, "Lyon is nice", True),
    ("icontains-any", ["paris", "lyon"], META, "Nice is nice", False),
    ("icontains-all", ["PARIS", "france"], META, "Paris, France", True),
    ("icontains-all", ["paris", "spain"], META, "Paris, France", False),
    ("contains-json", None, META, 'Sure: {"a": 1} done', True),
    ("contains-json", None, META, "no json {here", False),
    ("contains-json", LATLON, META, 'x {"b": 2} y {"latitude": 1, "longitude": 2}', True),
    ("contains-json", LATLON, META, 'x {"latitude": 100, "longitude": 2}', False),
    ("is-xml", None, META, "<root><child>x</child></root>", True),
    ("is-xml", None, META, "<root><child>x</child></root", False),
    ("is-xml", {"requiredElements": ["root.child"]}, META, "<root><child/></root>", True),
    ("is-xml", {"requiredElements": ["root.sibling"]}, META, "<root><child/></root>", False),
    ("is-xml", None, META, '<!DOCTYPE r [<!ENTITY a "aa">]><r>&a;</r>', False),
    ("contains-xml", "root.child", META, "Here: <root><child>C</child></root> ok?", True),
    ("contains-xml", None, META, "a < b and c > d", False),
    ("is-sql", None, META, "SELECT id, name FROM users WHERE id = 1;", True),
    ("is-sql", None, META, "```sql\nSELECT `id` FROM `users`;\n```", True),
    ("is-sql", None, META, "SELECT FROM WHERE", False),
    ("is-sql", {"databaseType": "MySQL"}, META, "DROP TABLE x; SELECT 1", True),
    ("is-sql", None, META, "", False),
    ("is-valid-openai-tools-call", TOOLS, META, CALL, True),
    ("is-valid-openai-tools-call", TOOLS, META, CALL.replace("get_weather", "book"), False),
    ("is-valid-openai-tools-call", TOOLS, META, CALL.replace("city", "town"), False),
    ("is-valid-openai-tools-call", TOOLS, META, "I would call get_weather", False),
    ("is-refusal", None, META, "I'm sorry, but I can't help with that.", True),
    ("is-refusal", None, META, "", True),
    ("is-refusal", None, META, "2 + 2 = 4", False),
    ("finish-reason", "stop", META, "x", True),
    ("finish-reason", "STOP", CallMeta(finish_reason="end_turn"), "x", True),
    ("finish-reason", "length", META, "x", False),
    ("finish-reason", "stop", CallMeta(), "x", False),
]


@pytest.mark.parametrize(("kind", "value", "meta", "output", "passed"), CASES)
def test_type(kind: str, value: Any, meta: CallMeta, output: str, passed: bool) -> None:
    spec = AssertionSpec(type=kind, value=value)
    validate(spec, CASE)
    score = evaluate(spec, output, CASE, meta)
    assert score.passed is passed, score.reason
    assert score.value == (1.0 if passed else 0.0)
    assert score.error is None and score.reason
    negated = evaluate(spec.model_copy(update={"type": f"not-{kind}"}), output, CASE, meta)
    assert negated.passed is not passed


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("icontains-any", "a,b"),
        ("icontains-all", []),
        ("contains-json", "not a schema"),
        ("is-xml", {"required": ["a"]}),
        ("is-sql", {"allowedTables": ["select::null::t"]}),
        ("is-valid-openai-tools-call", None),
        ("is-valid-openai-tools-call", [{"name": "x"}]),
        ("finish-reason", ""),
        ("is-refusal", "anything"),
    ],
)
def test_bad_values_are_refused_before_a_run(kind: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=r"suites/pf\.suite\.yaml:3"):
        validate(AssertionSpec(type=kind, value=value), CASE)


def test_finders_give_up_on_hostile_text_quickly() -> None:
    with pytest.raises(JSONLimitError):  # refused before any parsing: too deep
        find_json("{" * 50_000)
    assert find_xml("<a " * 20_000) == []
    assert sql_problem("ATTACH DATABASE '/tmp/x.db' AS x") is None  # parsed, never run

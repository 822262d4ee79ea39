"""Output-side scanners (format, refusal, grounding) and context-size."""

from __future__ import annotations

from typing import Any

import pytest

from promptdeck.core.guardrails import ScanContext, get_scanner
from promptdeck.core.guardrails.json_schema import SchemaError, schema_errors
from promptdeck.errors import ConfigError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "pattern": "^[A-Z]"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2},
        "kind": {"const": "person"},
    },
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"name": "Ann", "age": 3}, None),
        ({"name": "Ann", "age": 3.0, "email": None, "tags": ["a"], "kind": "person"}, None),
        ({"name": "Ann"}, "missing required property 'age'"),
        ({"name": "ann", "age": 3}, "does not match"),
        ({"name": "Ann", "age": True}, "expected integer, got boolean"),
        ({"name": "Ann", "age": 200}, "greater than the maximum"),
        ({"name": "Ann", "age": 3, "email": 5}, "expected string or null"),
        ({"name": "Ann", "age": 3, "tags": ["c"]}, "is not one of"),
        ({"name": "Ann", "age": 3, "tags": ["a", "b", "a"]}, "at most 2 items"),
        ({"name": "Ann", "age": 3, "kind": "robot"}, "expected 'person'"),
        ({"name": "Ann", "age": 3, "extra": 1}, "property 'extra' is not allowed"),
        ([1, 2], "expected object, got array"),
    ],
)
def test_json_schema_subset(value: Any, problem: str | None) -> None:
    errors = schema_errors(value, SCHEMA)
    if problem is None:
        assert errors == []
    else:
        assert any(problem in e for e in errors), errors


def test_invalid_schema_is_an_error() -> None:
    with pytest.raises(SchemaError):
        schema_errors(1, {"type": "decimal"})


def test_format_json_and_schema() -> None:
    scan = get_scanner("format").scan
    assert not scan('{"name": "Ann", "age": 3}', ScanContext(json_schema=SCHEMA)).flagged
    wrong = scan('{"name": "Ann"}', ScanContext(json_schema=SCHEMA))
    assert wrong.flagged and "missing required property 'age'" in wrong.reason
    broken = scan('  {"name": "Ann",}')
    assert broken.flagged and broken.reason.startswith("not valid JSON")
    assert broken.spans[0].start == 17 and broken.spans[0].text == "}"
    assert "code fence" in scan('```json\n{"a": 1}\n```').reason
    assert not scan("[1, 2, 3]").flagged
    assert not scan("free text", ScanContext(expect_json=False)).flagged


def test_format_pattern() -> None:
    scan = get_scanner("format").scan
    assert not scan(" APPROVED \n", ScanContext(pattern="APPROVED|REJECTED")).flagged
    assert scan("APPROVED, mostly", ScanContext(pattern="APPROVED|REJECTED")).flagged
    with pytest.raises(ConfigError, match="invalid pattern"):
        scan("x", ScanContext(pattern="("))
    with pytest.raises(ConfigError, match="invalid JSON Schema"):
        scan("1", ScanContext(json_schema={"type": "decimal"}))


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with that request.",
        "I cannot provide instructions for that.",
        "As an AI language model, I cannot browse the internet.",
        "I must respectfully decline.",
        "Sorry — I’m sorry, but I won't be able to do that.",
    ],
)
def test_refusals(answer: str) -> None:
    verdict = get_scanner("refusal").scan(answer)
    assert verdict.flagged and verdict.spans[0].type == "REFUSAL"


@pytest.mark.parametrize(
    "answer",
    [
        "Paris is the capital of France.",
        "I can help with that: here are three options.",
        "The character said: 'I cannot stand the rain.'",
    ],
)
def test_non_refusals(answer: str) -> None:
    assert not get_scanner("refusal").scan(answer).flagged


def test_grounding() -> None:
    scan = get_scanner("grounding").scan
    context = ScanContext(
        reference="The Eiffel Tower was completed in 1889 and is 330 metres tall. It is in Paris."
    )
    grounded = scan("The Eiffel Tower is in Paris and was completed in 1889.", context)
    assert not grounded.flagged and grounded.score < 0.2
    invented = scan(
        "The tower was designed by Gustave Eiffel, opened in 1887, cost 7 million.", context
    )
    assert invented.flagged
    assert {"Gustave", "1887"} <= {s.text for s in invented.spans}
    assert not scan("anything", ScanContext()).flagged  # no reference: nothing to check


def test_context_size() -> None:
    scan = get_scanner("context-size").scan
    text = "word " * 300
    over = scan(text, ScanContext(context_window=100))
    assert over.flagged and over.score == 1.0 and "300 tokens" in over.reason
    under = scan(text, ScanContext(context_window=1000))
    assert not under.flagged and under.score == pytest.approx(0.3)
    assert not scan(text).flagged

"""Structure and call-metadata assertion types, with promptfoo's semantics.

``icontains-any``, ``icontains-all``, ``contains-json``, ``is-xml``, ``contains-xml``,
``is-sql``, ``is-valid-openai-tools-call``, ``is-refusal`` and ``finish-reason``: what
promptfoo users write and promptdeck's own vocabulary lacked. Every type here is
binary (value 1 and passed, or 0 and failed), as promptfoo scores them.

``is-sql`` asks SQLite's own parser (``EXPLAIN`` on an empty in-memory database,
nothing is executed), so it accepts SQLite's dialect: MySQL or PostgreSQL-only
syntax can fail where promptfoo's parser (MySQL by default) would accept it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from promptdeck.core.guardrails.json_schema import schema_errors
from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion
from promptdeck.core.scorers.deterministic import parse_json
from promptdeck.safeload.answers import (
    JSONLimitError,
    check_answer_json,
    decode_answer_json,
    parse_answer_json,
)

__all__ = ["find_json", "find_xml", "refusal_phrase", "sql_problem"]

_MAX_CANDIDATES = 2000
"""Start positions tried when looking for JSON or XML inside a text (hostile inputs)."""


def _terms(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "the value must be a non-empty list of strings"
    if any(not isinstance(v, str | int | float) or isinstance(v, bool) for v in value):
        return "every term must be a string or a number"
    return None


@assertion("icontains-any", value="required", check=_terms)
def icontains_any(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains at least one of the terms, ignoring case."""
    folded = output.casefold()
    terms = [as_text(t) for t in ctx.value]
    found = [t for t in terms if t.casefold() in folded]
    if found:
        return Outcome.check(True, f"contains {found[0]!r} (any case)")
    return Outcome.check(False, f"contains none of {', '.join(map(repr, terms))} (any case)")


@assertion("icontains-all", value="required", check=_terms)
def icontains_all(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains every term, ignoring case."""
    folded = output.casefold()
    missing = [as_text(t) for t in ctx.value if as_text(t).casefold() not in folded]
    if missing:
        return Outcome.check(False, f"missing {', '.join(map(repr, missing))} (any case)")
    return Outcome.check(True, f"contains all {len(ctx.value)} terms (any case)")


def _schema_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping):
        return None
    return "the value must be a JSON Schema (a mapping)"


def find_json(text: str) -> list[Any]:
    """Every JSON object or array found in ``text``, in order (nested ones skipped).

    Raises:
        ValueError: The text is too long or nested too deep to look for JSON in
            (:mod:`promptdeck.safeload.answers`).
    """
    check_answer_json(text)
    decoder = json.JSONDecoder()
    found: list[Any] = []
    position, tried = 0, 0
    while tried < _MAX_CANDIDATES:
        starts = [i for i in (text.find("{", position), text.find("[", position)) if i != -1]
        if not starts:
            break
        start = min(starts)
        tried += 1
        try:
            data, end = decode_answer_json(decoder, text, start)
        except JSONLimitError:
            raise
        except ValueError:
            position = start + 1
            continue
        found.append(data)
        position = end
    return found


@assertion("contains-json", value="optional", check=_schema_or_none)
def contains_json(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains JSON (an object or array); with a value, JSON matching that schema."""
    try:
        found = find_json(output)
    except ValueError as exc:
        return Outcome.check(False, f"not searched for JSON: {exc}")
    if not found:
        return Outcome.check(False, "no JSON object or array in the output")
    if ctx.value is None:
        return Outcome.check(True, f"contains JSON ({type(found[0]).__name__})")
    problems = []
    for data in found:
        errors = schema_errors(data, ctx.value)
        if not errors:
            return Outcome.check(True, "contains JSON matching the schema")
        problems.append(errors[0])
    return Outcome.check(False, f"contains JSON, but {problems[0]}")


def _xml_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return None  # a comma-separated list of required elements
    if isinstance(value, Mapping) and set(value) <= {"requiredElements"}:
        elements = value.get("requiredElements")
        if isinstance(elements, list) and all(isinstance(e, str) and e for e in elements):
            return None
    return "the value must be `requiredElements: [root.child, ...]` or a comma-separated string"


def _required(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value.get("requiredElements", [])]


def _parse_xml(text: str) -> ElementTree.Element | None:
    """A well-formed XML document, refusing DTDs and entity declarations."""
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return None
    try:
        # No DTD reaches the parser (refused above), so no entity can expand.
        return ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError:
        return None


def _has_path(root: ElementTree.Element, path: str) -> bool:
    parts = path.split(".")
    if parts[0] != root.tag:
        return False
    current = [root]
    for part in parts[1:]:
        current = [child for node in current for child in node if child.tag == part]
        if not current:
            return False
    return True


def _xml_outcome(root: ElementTree.Element, required: list[str], what: str) -> Outcome:
    missing = [p for p in required if not _has_path(root, p)]
    if missing:
        return Outcome.check(False, f"{what}, but missing {', '.join(missing)}")
    return Outcome.check(True, what + (f" with {', '.join(required)}" if required else ""))


@assertion("is-xml", value="optional", check=_xml_value)
def is_xml(output: str, ctx: AssertionContext) -> Outcome:
    """The whole output is well-formed XML (with any ``requiredElements`` paths present)."""
    root = _parse_xml(output.strip())
    if root is None:
        return Outcome.check(False, "not a well-formed XML document")
    return _xml_outcome(root, _required(ctx.value), f"XML document <{root.tag}>")


_OPEN_TAG = re.compile(r"<([A-Za-z_][\w.-]*)[\s>/]")


def find_xml(text: str) -> list[ElementTree.Element]:
    """Well-formed XML fragments in ``text``: from an opening tag to its last closing tag."""
    found: list[ElementTree.Element] = []
    position = 0
    for tried, match in enumerate(_OPEN_TAG.finditer(text)):
        if tried >= _MAX_CANDIDATES:
            break
        if match.start() < position:
            continue
        tag = match.group(1)
        end = text.rfind(f"</{tag}>")
        stop = end + len(tag) + 3 if end > match.start() else text.find("/>", match.start()) + 2
        if stop <= match.start() + 1:
            continue
        root = _parse_xml(text[match.start() : stop])
        if root is not None:
            found.append(root)
            position = stop
    return found


@assertion("contains-xml", value="optional", check=_xml_value)
def contains_xml(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains a well-formed XML fragment (with any ``requiredElements``)."""
    required = _required(ctx.value)
    fragments = find_xml(output)
    if not fragments:
        return Outcome.check(False, "no well-formed XML fragment in the output")
    outcomes = [_xml_outcome(r, required, f"XML fragment <{r.tag}>") for r in fragments]
    return next((o for o in outcomes if o.passed), outcomes[0])


def _sql_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping) and set(value) <= {"databaseType"}:
        return None
    return "the value may only give `databaseType` (table and column allowlists are not supported)"


def _deny_all(*_args: Any) -> int:
    return sqlite3.SQLITE_DENY


_SEMANTIC = ("no such table", "no such column", "no such function", "no such collation")


def sql_problem(text: str) -> str | None:
    """Why ``text`` is not valid SQL to SQLite's parser, or ``None`` when it is.

    Each statement is compiled with ``EXPLAIN`` against an empty in-memory database
    with an authorizer that allows nothing, so nothing runs; unknown tables and
    columns are not syntax errors.
    """
    statements: list[str] = []
    current = ""
    for line in text.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)
    statements = [s.strip().rstrip(";").strip() for s in statements if s.strip().rstrip(";")]
    if not statements:
        return "empty"
    connection = sqlite3.connect(":memory:")
    try:
        connection.set_authorizer(_deny_all)
        for statement in statements:
            try:
                connection.execute(f"EXPLAIN {statement}")
            except sqlite3.DatabaseError as exc:
                message = str(exc)
                if "syntax error" in message or "incomplete input" in message:
                    return message
                if "not authorized" in message or message.startswith(_SEMANTIC):
                    continue
                return message
    finally:
        connection.close()
    return None


@assertion("is-sql", value="optional", check=_sql_value)
def is_sql(output: str, ctx: AssertionContext) -> Outcome:
    """The output is non-empty, valid SQL (checked by SQLite's parser, nothing runs)."""
    text = output.strip()
    fenced = re.fullmatch(r"```(?:sql)?\s*\n(.*?)\n?```", text, flags=re.DOTALL | re.IGNORECASE)
    if fenced:
        text = fenced.group(1)
    problem = sql_problem(text)
    if problem is None:
        return Outcome.check(True, "valid SQL")
    return Outcome.check(False, f"not valid SQL: {problem}")


def _tools(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "the value must be the provider's `tools` list (OpenAI function tools)"
    for tool in value:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            return "every tool must be `{type: function, function: {name, parameters}}`"
    return None


def _calls(data: Any) -> list[Any]:
    if isinstance(data, Mapping) and "tool_calls" in data:
        data = data["tool_calls"]
    return data if isinstance(data, list) else [data]


@assertion("is-valid-openai-tools-call", value="required", check=_tools)
def is_valid_openai_tools_call(output: str, ctx: AssertionContext) -> Outcome:
    """The output is JSON tool calls, each naming a tool of the value with valid arguments."""
    try:
        calls = _calls(parse_json(output))
    except ValueError as exc:
        return Outcome.check(False, f"not JSON tool calls: {exc}")
    tools = {t["function"]["name"]: t["function"] for t in ctx.value}
    if not calls:
        return Outcome.check(False, "no tool call")
    for call in calls:
        function = call.get("function", call) if isinstance(call, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str) or name not in tools:
            return Outcome.check(False, f"call to an unknown tool {name!r}")
        arguments: Any = function.get("arguments", {}) if function else {}
        if isinstance(arguments, str):
            try:
                arguments = parse_answer_json(arguments)
            except JSONLimitError as exc:
                return Outcome.check(False, f"{name}: the arguments are refused: {exc}")
            except ValueError:
                return Outcome.check(False, f"{name}: the arguments are not JSON")
        schema = tools[name].get("parameters")
        errors = schema_errors(arguments, schema) if isinstance(schema, Mapping) else []
        if errors:
            return Outcome.check(False, f"{name}: {errors[0]}")
    return Outcome.check(True, f"{len(calls)} valid tool call(s)")


_REFUSALS = (
    r"\bI(?:'m| am) (?:sorry|afraid)\b",
    r"\bI (?:can(?:no|')t|cannot|won't|will not|am unable to|'m unable to|am not able to)\b",
    r"\bI(?:'m| am) not (?:able|allowed|permitted|comfortable)\b",
    r"\bas an AI\b",
    r"\bI must (?:decline|refuse)\b",
    r"\b(?:that|this) (?:would not|wouldn't|is not|isn't) (?:be )?(?:ethical|appropriate|legal)\b",
    r"\bI (?:apologi[sz]e|refuse)\b",
    r"\bagainst (?:my|our) (?:guidelines|policies|policy)\b",
    r"\bcontent (?:filter|policy)\b",
)
_REFUSAL = re.compile("|".join(_REFUSALS), re.IGNORECASE)


def refusal_phrase(text: str) -> str | None:
    """The refusal phrase found in ``text`` (an empty answer counts), or ``None``."""
    if not text.strip():
        return "(empty answer)"
    found = _REFUSAL.search(text.replace("\u2019", "'"))
    return found.group(0) if found else None


@assertion("is-refusal")
def is_refusal(output: str, ctx: AssertionContext) -> Outcome:
    """The output refuses the task (a refusal phrase, or an empty answer)."""
    phrase = refusal_phrase(output)
    if phrase is not None:
        return Outcome.check(True, f"refusal: {phrase!r}")
    return Outcome.check(False, "no refusal phrase")


_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
    "refusal": "content_filter",
}


def _reason(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return "the value must be a finish reason (stop, length, content_filter, tool_calls)"


@assertion("finish-reason", value="required", check=_reason)
def finish_reason(output: str, ctx: AssertionContext) -> Outcome:
    """The model stopped for the reason given (``stop``, ``length``…; any case)."""
    got = ctx.meta.finish_reason
    if not got:
        return Outcome.check(False, "the provider gave no finish reason")
    normal = _REASONS.get(got.lower(), got.lower())
    want = str(ctx.value).strip().lower()
    return Outcome.check(normal == want, f"finish reason {normal!r} (wanted {want!r})")

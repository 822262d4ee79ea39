"""Deterministic assertion types: text, JSON, length and call-budget checks.

Types that say so compare against the case's ``expected`` when the spec has no
``value``. Text comparisons are exact unless the type says otherwise
(``icontains`` ignores case); ``equals`` ignores leading and trailing whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from promptdeck.core.guardrails.json_schema import SchemaError, schema_errors
from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion

__all__ = ["parse_json", "word_count"]

_WORD = re.compile(r"\S+")


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalar(value: Any) -> str | None:
    if isinstance(value, str | int | float | bool):
        return None
    return f"the value must be a string or a number, not {type(value).__name__}"


def _terms(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "the value must be a non-empty list of strings"
    if any(not isinstance(v, str | int | float) or isinstance(v, bool) for v in value):
        return "every term must be a string or a number"
    if any(as_text(v) == "" for v in value):
        return "a term cannot be empty"
    return None


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return "the value must be a number of 0 or more"
    return None


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "the value must be a whole number of 0 or more"
    return None


def _pattern(value: Any) -> str | None:
    if not isinstance(value, str):
        return "the value must be a regular expression (a string)"
    try:
        re.compile(value)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return None


def _schema(value: Any) -> str | None:
    if not isinstance(value, Mapping | bool):
        return "the value must be a JSON Schema (a mapping)"
    try:
        schema_errors({}, value)
        schema_errors([], value)
        schema_errors("", value)
        schema_errors(0, value)
    except SchemaError as exc:
        return f"invalid JSON Schema: {exc}"
    return None


def _bounds(value: Any) -> str | None:
    if isinstance(value, Mapping):
        if not value or set(value) - {"min", "max"}:
            return "the value must be a whole number or a mapping with `min` and/or `max`"
        for key in ("min", "max"):
            if key in value and _count(value[key]) is not None:
                return f"`{key}` must be a whole number of 0 or more"
        if "min" in value and "max" in value and value["min"] > value["max"]:
            return "`min` is larger than `max`"
        return None
    return _count(value)


def parse_json(text: str) -> Any:
    """Parse a model's JSON answer, tolerating a surrounding Markdown code fence.

    Raises:
        ValueError: When the text is not JSON, or is nested too deep or too long to
            parse (:mod:`promptdeck.safeload.answers`).
    """
    from promptdeck.safeload.answers import check_answer_json, parse_answer_json

    check_answer_json(text)
    stripped = text.strip()
    fenced = re.fullmatch(r"```[\w-]*\s*\n(.*?)\n?```", stripped, flags=re.DOTALL)
    if fenced:
        stripped = fenced.group(1).strip()
    return parse_answer_json(stripped)


def word_count(text: str) -> int:
    """Count whitespace-separated words."""
    return len(_WORD.findall(text))


@assertion("equals", value="expected")
def equals(output: str, ctx: AssertionContext) -> Outcome:
    """The output equals the value (outer whitespace ignored; JSON values compared as data)."""
    want = ctx.value
    if isinstance(want, str):
        ok = output.strip() == want.strip()
    else:
        try:
            ok = parse_json(output) == want
        except ValueError:
            ok = output.strip() == as_text(want)
    if ok:
        return Outcome.check(True, f"equals {_clip(as_text(want))!r}")
    return Outcome.check(False, f"expected {_clip(as_text(want))!r}, got {_clip(output)!r}")


@assertion("contains", value="expected", check=_scalar)
def contains(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains the value (case-sensitive)."""
    term = as_text(ctx.value)
    ok = term in output
    return Outcome.check(ok, f"{'contains' if ok else 'does not contain'} {_clip(term)!r}")


@assertion("icontains", value="expected", check=_scalar)
def icontains(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains the value, ignoring case."""
    term = as_text(ctx.value)
    ok = term.casefold() in output.casefold()
    verb = "contains" if ok else "does not contain"
    return Outcome.check(ok, f"{verb} {_clip(term)!r} (any case)")


@assertion("starts-with", value="expected", check=_scalar)
def starts_with(output: str, ctx: AssertionContext) -> Outcome:
    """The output starts with the value (leading whitespace ignored)."""
    prefix = as_text(ctx.value)
    ok = output.lstrip().startswith(prefix)
    return Outcome.check(ok, f"{'starts' if ok else 'does not start'} with {_clip(prefix)!r}")


@assertion("contains-any", value="required", check=_terms)
def contains_any(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains at least one of the terms (case-sensitive)."""
    terms = [as_text(t) for t in ctx.value]
    found = [t for t in terms if t in output]
    if found:
        return Outcome.check(True, f"contains {_clip(found[0])!r}")
    return Outcome.check(False, f"contains none of {_clip(', '.join(terms), 80)!r}")


@assertion("contains-all", value="required", check=_terms)
def contains_all(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains every term (case-sensitive); the score is the share found."""
    terms = [as_text(t) for t in ctx.value]
    missing = [t for t in terms if t not in output]
    share = 1.0 - len(missing) / len(terms)
    if not missing:
        return Outcome(1.0, True, f"contains all {len(terms)} terms")
    return Outcome(share, False, f"missing {_clip(', '.join(missing), 80)!r}")


@assertion("forbidden", value="required", check=_terms)
def forbidden(output: str, ctx: AssertionContext) -> Outcome:
    """The output contains none of the terms (case-insensitive)."""
    terms = [as_text(t) for t in ctx.value]
    folded = output.casefold()
    hits = [t for t in terms if t.casefold() in folded]
    if hits:
        return Outcome.check(False, f"contains forbidden {_clip(', '.join(hits), 80)!r}")
    return Outcome.check(True, f"none of {len(terms)} forbidden terms")


@assertion("regex", value="required", check=_pattern)
def regex(output: str, ctx: AssertionContext) -> Outcome:
    """The regular expression matches somewhere in the output (``re.search``)."""
    match = re.search(ctx.value, output)
    if match:
        return Outcome.check(True, f"matches /{_clip(ctx.value)}/ at {match.start()}")
    return Outcome.check(False, f"no match for /{_clip(ctx.value)}/")


@assertion("is-json", value="optional", check=_schema)
def is_json(output: str, ctx: AssertionContext) -> Outcome:
    """The output is JSON (a code fence is allowed); with a value, JSON matching that schema."""
    try:
        data = parse_json(output)
    except ValueError as exc:
        return Outcome.check(False, f"not JSON: {exc}")
    if ctx.value is not None:
        errors = schema_errors(data, ctx.value)
        if errors:
            return Outcome.check(False, f"JSON, but {errors[0]}")
    return Outcome.check(True, f"valid JSON ({type(data).__name__})")


@assertion("json-schema", value="required", check=_schema)
def json_schema(output: str, ctx: AssertionContext) -> Outcome:
    """The output is JSON matching the JSON Schema in the value."""
    try:
        data = parse_json(output)
    except ValueError as exc:
        return Outcome.check(False, f"not JSON: {exc}")
    errors = schema_errors(data, ctx.value)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return Outcome.check(False, errors[0] + more)
    return Outcome.check(True, "matches the schema")


@assertion("word-count", value="required", check=_bounds)
def word_count_assertion(output: str, ctx: AssertionContext) -> Outcome:
    """The output has exactly ``value`` words, or between ``min`` and ``max``."""
    n = word_count(output)
    bounds = ctx.value
    if isinstance(bounds, Mapping):
        low, high = bounds.get("min", 0), bounds.get("max")
        ok = n >= low and (high is None or n <= high)
        wanted = f"{low}..{'' if high is None else high}"
    else:
        ok, wanted = n == bounds, str(bounds)
    return Outcome.check(ok, f"{n} words (wanted {wanted})")


@assertion("max-length", value="required", check=_count)
def max_length(output: str, ctx: AssertionContext) -> Outcome:
    """The output has at most ``value`` characters."""
    n = len(output)
    return Outcome.check(n <= ctx.value, f"{n} characters (limit {ctx.value})")


@assertion("latency", value="required", check=_number)
def latency(output: str, ctx: AssertionContext) -> Outcome:
    """The call took at most ``value`` milliseconds; the score is ``min(1, value / latency)``."""
    took = ctx.meta.latency_ms
    if took is None:
        return Outcome.check(False, "latency unknown")
    limit = float(ctx.value)
    ok = took <= limit
    value = 1.0 if ok else (limit / took if took > 0 else 0.0)
    return Outcome(value, ok, f"{took:.0f} ms (limit {limit:g} ms)")


@assertion("cost", value="required", check=_number)
def cost(output: str, ctx: AssertionContext) -> Outcome:
    """The call cost at most ``value`` US dollars; the score is ``min(1, value / cost)``."""
    spent = ctx.meta.cost_usd
    if spent is None:
        return Outcome.check(False, "cost unknown")
    limit = float(ctx.value)
    ok = spent <= limit
    value = 1.0 if ok else (limit / spent if spent > 0 else 0.0)
    return Outcome(value, ok, f"${spent:.6f} (limit ${limit:g})")

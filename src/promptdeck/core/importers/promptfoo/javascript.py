"""promptfoo ``javascript`` assertions that are simple expressions → promptdeck types.

Carried (``return`` and a trailing ``;`` allowed, several joined by ``&&``):
``output.length <|<=|>|>= N``, ``output.includes('s')`` (and ``!``),
``output.toLowerCase().includes('s')``, ``output.startsWith('s')``,
``output === 's'`` / ``output.trim() === 's'``, ``/re/i.test(output)``,
``output.split(' ').length <= N``, ``JSON.parse(output)`` and
``JSON.parse(output).a.b === value``. Anything else is code, and is not carried.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["javascript_spec"]

_STR = r"""(?P<q>['"`])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
_OUT = r"output(?:\.trim\(\))?"
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^output\.length\s*(?P<op><=|<|>=|>)\s*(?P<n>\d+)$"), "length"),
    (re.compile(rf"^(?P<neg>!)?\s*output\.includes\(\s*{_STR}\s*\)$"), "contains"),
    (
        re.compile(rf"^(?P<neg>!)?\s*output\.toLowerCase\(\)\.includes\(\s*{_STR}\s*\)$"),
        "icontains",
    ),
    (re.compile(rf"^output\.startsWith\(\s*{_STR}\s*\)$"), "starts-with"),
    (re.compile(rf"^{_OUT}\s*(?P<op>===|==|!==|!=)\s*{_STR}$"), "equals"),
    (re.compile(r"^/(?P<re>(?:\\.|[^/])+)/(?P<flags>[gimsuy]*)\.test\(\s*output\s*\)$"), "regex"),
    (
        re.compile(
            r"^output\.split\((?:' '|\"\s\"|/\\s\+/)\)\.length\s*(?P<op><=|<|>=|>)\s*(?P<n>\d+)$"
        ),
        "words",
    ),
    (re.compile(r"^JSON\.parse\(\s*output\s*\)$"), "json"),
    (
        re.compile(
            r"^JSON\.parse\(\s*output\s*\)(?P<path>(?:\.[A-Za-z_]\w*)+)\s*(?P<op>===|==)\s*(?P<v>.+)$"
        ),
        "json-field",
    ),
]


def _text(match: re.Match[str]) -> str:
    return str(json.loads('"' + match.group("s").replace('"', '\\"').replace("\\'", "'") + '"'))


def _one(expression: str) -> dict[str, Any] | None:
    for pattern, kind in _RULES:
        match = pattern.match(expression)
        if match is None:
            continue
        groups = match.groupdict()
        negated = "not-" if groups.get("neg") else ""
        if kind == "length":
            n, op = int(match.group("n")), match.group("op")
            limit = {"<=": n, "<": n - 1, ">": n, ">=": n - 1}[op]
            if limit < 0:
                return None
            return {"type": "max-length" if op in ("<", "<=") else "not-max-length", "value": limit}
        if kind in ("contains", "starts-with"):
            return {"type": f"{negated}{kind}", "value": _text(match)}
        if kind == "icontains":
            return {"type": f"{negated}icontains", "value": _text(match)}
        if kind == "equals":
            negated = "not-" if match.group("op").startswith("!") else ""
            return {"type": f"{negated}equals", "value": _text(match)}
        if kind == "regex":
            flags = match.group("flags")
            prefix = "(?i)" if "i" in flags else ""
            prefix += "(?m)" if "m" in flags else ""
            return {"type": "regex", "value": prefix + match.group("re").replace("\\/", "/")}
        if kind == "words":
            n, op = int(match.group("n")), match.group("op")
            bounds = {"<=": {"max": n}, "<": {"max": n - 1}, ">": {"min": n + 1}, ">=": {"min": n}}
            return {"type": "word-count", "value": bounds[op]}
        if kind == "json":
            return {"type": "is-json"}
        if kind == "json-field":
            try:
                want = json.loads(match.group("v").strip().replace("'", '"'))
            except ValueError:
                return None
            schema: dict[str, Any] = {"const": want}
            for key in reversed(match.group("path").strip(".").split(".")):
                schema = {"type": "object", "required": [key], "properties": {key: schema}}
            return {"type": "json-schema", "value": schema}
    return None


def javascript_spec(value: Any) -> dict[str, Any] | None:
    """The promptdeck assertion a simple javascript expression means, else ``None``."""
    if not isinstance(value, str) or value.startswith("file://"):
        return None
    text = value.strip()
    text = re.sub(r"^return\s+", "", text).rstrip(";").strip()
    if "\n" in text or not text:
        return None
    parts = [p.strip() for p in text.split("&&")]
    specs = [_one(p) for p in parts]
    if any(s is None for s in specs):
        return None
    found = [s for s in specs if s is not None]
    if len(found) == 1:
        return found[0]
    return {"type": "assert-set", "assert": found}

"""Nunjucks (promptfoo's templates) to Jinja2 (promptdeck's).

The syntax is the same but for a few JavaScript-isms, which are rewritten; what
cannot be is refused with a reason.

Rewritten: ``| dump`` → ``| tojson``, ``x.length`` → ``(x | length)``. Refused:
``env.*`` (promptfoo's environment variables), custom ``nunjucksFilters`` and other
filters Jinja2 lacks, and anything Jinja2 cannot parse.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["has_template", "render_value", "to_jinja", "variables_of"]

_DUMP = re.compile(r"\|\s*dump\b")
_LENGTH = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\[[^\]]*\])*)\.length\b")
_FILTER = re.compile(r"\|\s*([A-Za-z_]\w*)")
_ENV = re.compile(r"\benv\.\w+|\bprocess\.env\b")
_TAG = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)


def _environment() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment()


def to_jinja(text: str) -> tuple[str, str | None]:
    """Rewrite a Nunjucks template as Jinja2.

    Returns:
        ``(template, None)``, or ``(text, reason)`` when it cannot be carried.
    """
    if "{{" not in text and "{%" not in text:
        return text, None

    def fix(match: re.Match[str]) -> str:
        tag = _DUMP.sub("| tojson", match.group(0))
        return _LENGTH.sub(r"(\1 | length)", tag)

    out = _TAG.sub(fix, text)
    env = _environment()
    for tag in _TAG.findall(out):
        if _ENV.search(tag):
            return text, "uses promptfoo's environment variables (env.*); give them as vars"
        for name in _FILTER.findall(tag):
            if name not in env.filters and name not in env.tests:
                return text, f"uses the Nunjucks filter `{name}`, which Jinja2 does not have"
    try:
        env.parse(out)
    except Exception as exc:  # jinja2.TemplateSyntaxError, without importing jinja2 here
        return text, f"not a template Jinja2 can read: {exc}"
    return out, None


def render_value(value: Any, variables: dict[str, Any]) -> tuple[Any, str | None]:
    """Render the Nunjucks in an assertion's value (strings, lists, mappings) with vars.

    Returns:
        ``(rendered, None)``, or ``(value, reason)`` when a template cannot be carried.
    """
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value, None
        template, problem = to_jinja(value)
        if problem is not None:
            return value, problem
        try:
            return _environment().from_string(template).render(**variables), None
        except Exception as exc:  # a template error is this value's problem, not the import's
            return value, f"cannot render {value!r}: {exc}"
    if isinstance(value, list):
        out = []
        for item in value:
            rendered, problem = render_value(item, variables)
            if problem is not None:
                return value, problem
            out.append(rendered)
        return out, None
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            rendered, problem = render_value(item, variables)
            if problem is not None:
                return value, problem
            result[key] = rendered
        return result, None
    return value, None


def has_template(value: Any) -> bool:
    """True when a value (or anything inside it) holds Nunjucks."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    return False


def variables_of(*templates: str) -> list[str]:
    """The variables Jinja2 templates use, sorted (each is declared in the prompt file)."""
    from jinja2 import meta

    env = _environment()
    names: set[str] = set()
    for template in templates:
        names |= meta.find_undeclared_variables(env.parse(template))
    return sorted(names)

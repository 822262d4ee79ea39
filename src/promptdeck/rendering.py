"""Validate, sanitise and render prompt templates: the one implementation of rendering.

Pure and light (plain dataclasses, Jinja2, no pydantic), so that both the workbench
(through :mod:`promptdeck.core.prompts.templating`) and the runtime registry reader
(:mod:`promptdeck.registry`) render with exactly the same code.

Templates run in Jinja2's immutable sandbox with ``StrictUndefined``: they can use
variables, filters and conditionals, but never reach Python internals or the
filesystem, and a variable used without a value is an error, not an empty string.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from promptdeck.errors import ConfigError, UsageError

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "PromptTemplate",
    "VariableError",
    "VariableRules",
    "check_variables",
    "render_messages",
    "sanitize",
    "template_from_dict",
]


class VariableError(UsageError):
    """A variable is missing or breaks its rules (names the prompt, variable and rule)."""


@dataclass(frozen=True)
class VariableRules:
    """How one variable is validated and sanitised (see docs/formats.md)."""

    required: bool = False
    default: Any = None
    type: str | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] | None = None
    strip_html: bool = False
    collapse_whitespace: bool = False
    escape_injection: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariableRules:
        """Build rules from a plain mapping (unknown keys, e.g. description, ignored)."""
        enum = data.get("enum")
        return cls(
            required=bool(data.get("required", False)),
            default=data.get("default"),
            type=data.get("type"),
            max_length=data.get("max_length"),
            pattern=data.get("pattern"),
            enum=tuple(enum) if enum is not None else None,
            strip_html=bool(data.get("strip_html", False)),
            collapse_whitespace=bool(data.get("collapse_whitespace", False)),
            escape_injection=bool(data.get("escape_injection", False)),
        )


@dataclass(frozen=True)
class PromptTemplate:
    """What rendering needs of a prompt.

    Attributes:
        name: The prompt's name (for messages).
        variables: Variable name -> rules, in declaration order.
        system: System message template (with ``template``).
        template: User message template; either this or ``messages``.
        messages: Chat message templates as (role, content) pairs.
        examples: Few-shot (input, output) pairs; an input mapping is rendered
            through ``template`` with those values.
    """

    name: str
    variables: Mapping[str, VariableRules] = field(default_factory=dict)
    system: str | None = None
    template: str | None = None
    messages: Sequence[tuple[str, str]] = ()
    examples: Sequence[tuple[str | Mapping[str, Any], str]] = ()


def template_from_dict(data: Mapping[str, Any]) -> PromptTemplate:
    """Build a template from a prompt's plain data (its canonical YAML, loaded).

    The workbench and the registry reader both build templates through this
    function, so they render identically.
    """
    variables = data.get("variables") or {}
    return PromptTemplate(
        name=str(data.get("name", "")),
        variables={str(k): VariableRules.from_dict(v or {}) for k, v in dict(variables).items()},
        system=data.get("system"),
        template=data.get("template"),
        messages=tuple((m["role"], m["content"]) for m in data.get("messages") or ()),
        examples=tuple((e["input"], e["output"]) for e in data.get("examples") or ()),
    )


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    # Imported here so that importing this module (and the registry reader) stays light.
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPECIAL_TOKENS = re.compile(
    r"<\|[^|>]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<\|?(?:im_start|im_end|endoftext)\|?>",
    re.IGNORECASE,
)
_ROLE_PREFIX = re.compile(
    r"^(\s*)(#{1,6}\s*)?(system|assistant|developer|instruction|user)(\s*[:>])",
    re.IGNORECASE | re.MULTILINE,
)


def sanitize(value: str, rules: VariableRules) -> str:
    """Apply a variable's sanitisation flags to a text value.

    - ``strip_html``: drop ``<script>``/``<style>`` blocks and every tag, unescape entities.
    - ``escape_injection``: remove chat-template control tokens (``<|im_start|>``,
      ``[INST]``, ``<<SYS>>``…), quote line-leading role markers (``System:`` becomes
      ``"System":``) and escape triple quotes and triple backticks, so a value cannot
      pose as a new message or close the block it is quoted in.
    - ``collapse_whitespace``: runs of white space become one space; ends trimmed.

    Args:
        value: The raw value.
        rules: The variable's rules.

    Returns:
        The sanitised value.
    """
    if rules.strip_html:
        value = html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", value)))
    if rules.escape_injection:
        value = _SPECIAL_TOKENS.sub("", value)
        value = _ROLE_PREFIX.sub(lambda m: f'{m[1]}{m[2] or ""}"{m[3]}"{m[4]}', value)
        value = value.replace('"""', r"\"\"\"").replace("```", r"\`\`\`")
    if rules.collapse_whitespace:
        value = " ".join(value.split())
    return value


_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _coerce(prompt: str, name: str, value: Any, kind: str | None) -> Any:
    if kind is None:
        return value
    try:
        if kind == "string":
            if isinstance(value, bool | int | float):
                return str(value)
            if not isinstance(value, str):
                raise TypeError
            return value
        if kind == "integer":
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return value if isinstance(value, int) else int(str(value).strip())
        if kind == "number":
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if isinstance(value, bool):
            return value
        return _BOOLS[str(value).strip().lower()]
    except (TypeError, ValueError, KeyError):
        raise VariableError(
            f"prompt {prompt!r}: variable {name!r} must be of type {kind}, got {value!r}",
            f"pass a {kind} value for {name}",
        ) from None


def check_variables(
    prompt: PromptTemplate, values: Mapping[str, Any], *, allow_extra: bool = False
) -> dict[str, Any]:
    """Validate and sanitise the values for a prompt's variables.

    Args:
        prompt: The prompt.
        values: The values given (by a user, a case, a suite).
        allow_extra: Ignore values for variables the prompt does not declare
            (a suite's defaults shared by several prompts). Otherwise they are errors.

    Returns:
        The values to render with: given or default, coerced, sanitised.

    Raises:
        VariableError: Naming the prompt, the variable and the rule broken.
    """
    declared = prompt.variables
    if not allow_extra:
        for name in values:
            if name not in declared:
                close = difflib.get_close_matches(name, list(declared), n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"its variables are: {', '.join(declared) or 'none'}"
                )
                raise VariableError(f"prompt {prompt.name!r} has no variable {name!r}", hint)
    result: dict[str, Any] = {}
    for name, rules in declared.items():
        if name in values and values[name] is not None:
            value = values[name]
        elif rules.default is not None:
            value = rules.default
        elif rules.required:
            raise VariableError(
                f"prompt {prompt.name!r}: variable {name!r} is required",
                f"pass it, e.g. --var {name}=...",
            )
        else:
            continue
        value = _coerce(prompt.name, name, value, rules.type)
        if isinstance(value, str):
            value = sanitize(value, rules)
        _check_rules(prompt.name, name, value, rules)
        result[name] = value
    return result


def _check_rules(prompt: str, name: str, value: Any, rules: VariableRules) -> None:
    if (
        rules.enum is not None
        and value not in rules.enum
        and str(value) not in map(str, rules.enum)
    ):
        allowed = ", ".join(map(str, rules.enum))
        raise VariableError(
            f"prompt {prompt!r}: variable {name!r} is {value!r}, not one of: {allowed}",
            f"use one of {allowed}",
        )
    text = str(value)
    if rules.max_length is not None and len(text) > rules.max_length:
        raise VariableError(
            f"prompt {prompt!r}: variable {name!r} is {len(text)} characters, "
            f"over max_length {rules.max_length}",
            "shorten the value or raise max_length in the prompt file",
        )
    if rules.pattern is not None and not re.search(rules.pattern, text):
        raise VariableError(
            f"prompt {prompt!r}: variable {name!r} does not match pattern {rules.pattern!r}",
            f"got {text[:60]!r}",
        )


@lru_cache(maxsize=1024)
def _compiled(source: str) -> jinja2.Template:
    """Compile a template once per distinct source (compiling costs ~1 ms; rendering µs)."""
    return _environment().from_string(source)


def _compile(prompt: PromptTemplate, where: str, source: str) -> jinja2.Template:
    import jinja2

    try:
        return _compiled(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"prompt {prompt.name!r}: {where} line {exc.lineno}: {exc.message}",
            "fix the Jinja2 syntax ({{ var }}, {% if %}...{% endif %})",
        ) from exc


#: ``{{ name }}`` and nothing more: a variable printed as it is.
_PLAIN_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: What starts any other Jinja2 construct: an expression, a tag or a comment.
_JINJA_OPENER = re.compile(r"\{[{%#]")
#: Names Jinja2 may read as constants or operators: left to Jinja2 itself.
_JINJA_WORDS = frozenset(
    "true false none True False None and or not in is if else".split()  # noqa: SIM905
)
_NEWLINE = re.compile(r"\r\n|\r|\n")


@lru_cache(maxsize=1024)
def _plain(source: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    r"""Split a template of plain text and ``{{ name }}`` into its texts and names.

    Most prompt templates are only that, and rendering them needs neither Jinja2
    (~30 ms to import) nor its sandbox: the result is what Jinja2 gives, each value
    through ``str`` and the text with Jinja2's newline handling (every line break
    written as ``\n``, one trailing line break dropped). A test holds the two equal.

    Returns:
        The texts around the names (one more than the names), or None for a template
        with anything else in it (filters, tags, comments, expressions).
    """
    parts = _PLAIN_VARIABLE.split(source)
    texts, names = parts[0::2], parts[1::2]
    if (
        any(_JINJA_OPENER.search(text) for text in texts)
        or any(text.endswith("{") for text in texts[:-1])  # "{{{ x }}" opens at the first
        or _JINJA_WORDS.intersection(names)
    ):
        return None
    lines = _NEWLINE.split(texts[-1])
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    texts[-1] = "\n".join(lines)
    return tuple(_NEWLINE.sub("\n", text) for text in texts), tuple(names)


def _fill_plain(source: str, values: Mapping[str, Any]) -> str | None:
    plain = _plain(source)
    if plain is None:
        return None
    texts, names = plain
    out = [texts[0]]
    try:
        for name, text in zip(names, texts[1:], strict=True):
            out.append(str(values[name]))
            out.append(text)
    except Exception:  # a missing or unprintable value: Jinja2 will say what
        return None
    return "".join(out)


def _fill(prompt: PromptTemplate, where: str, source: str, values: Mapping[str, Any]) -> str:
    plain = _fill_plain(source, values)
    if plain is not None:
        return plain
    import jinja2

    template = _compile(prompt, where, source)
    try:
        return template.render(**values)
    except jinja2.UndefinedError as exc:
        raise VariableError(
            f"prompt {prompt.name!r}: {where}: {exc.message}",
            "declare the variable with a default, pass it, or guard it with {% if x is defined %}",
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise VariableError(
            f"prompt {prompt.name!r}: {where}: refused by the template sandbox ({exc})",
            "templates may use variables, filters and conditionals only",
        ) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise VariableError(
            f"prompt {prompt.name!r}: {where}: {exc}", "check the template"
        ) from exc


def render_messages(
    prompt: PromptTemplate, values: Mapping[str, Any], *, allow_extra: bool = False
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Validate the variables and render the prompt's chat messages.

    Args:
        prompt: The prompt.
        values: Variable values.
        allow_extra: Ignore values for undeclared variables.

    Returns:
        The messages (``{"role", "content"}``) and the checked values used.

    Raises:
        VariableError: A variable is missing or invalid, or the template misuses one.
        ConfigError: A template does not compile.
    """
    checked = check_variables(prompt, values, allow_extra=allow_extra)
    messages: list[dict[str, str]] = []
    if prompt.messages:
        for i, (role, content) in enumerate(prompt.messages):
            messages.append(
                {"role": role, "content": _fill(prompt, f"messages[{i}]", content, checked)}
            )
        return messages, checked
    if prompt.system is not None:
        messages.append(
            {"role": "system", "content": _fill(prompt, "system", prompt.system, checked)}
        )
    for i, (shot_input, shot_output) in enumerate(prompt.examples):
        if isinstance(shot_input, Mapping):
            shot = check_variables(prompt, shot_input)
            user = _fill(prompt, f"examples[{i}]", prompt.template or "", shot)
        else:
            user = shot_input
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": shot_output})
    user = _fill(prompt, "template", prompt.template or "", checked)
    messages.append({"role": "user", "content": user})
    return messages, checked


def template_sources(prompt: PromptTemplate) -> list[tuple[str, str]]:
    """Return (where, source) for every template of the prompt."""
    sources = [(f"messages[{i}]", content) for i, (_, content) in enumerate(prompt.messages)]
    if prompt.system is not None:
        sources.append(("system", prompt.system))
    if prompt.template is not None:
        sources.append(("template", prompt.template))
    return sources


def undeclared_names(source: str) -> set[str]:
    """Return the variable names a template uses (empty when it does not parse)."""
    import jinja2
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(_environment().parse(source)))
    except jinja2.TemplateSyntaxError:
        return set()

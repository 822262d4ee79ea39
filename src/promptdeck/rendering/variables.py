"""Check a prompt's variable values: given or default, coerced, sanitised, within rules."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Mapping
from typing import Any

from promptdeck.rendering.templates import PromptTemplate, VariableError, VariableRules

__all__ = ["check_variable", "check_variables", "sanitize", "strip_html"]


#: A tag: ``<`` and a name (or ``/``, ``!``, ``?``) up to the next ``>``, never across
#: another ``<`` (so a scan stops at the next ``<`` and stripping stays linear in the
#: text, whatever it holds); or one left open at the very end of the text.
_TAG = re.compile(r"<\s*[a-zA-Z/!?][^<>]*(?:>|$)")
#: An opening or closing ``script``/``style`` tag, whose content is dropped with it.
_BLOCK_TAG = re.compile(r"<(/?)(script|style)\b[^<>]*>", re.IGNORECASE)
#: Decoding rounds for text encoded more than once (``&amp;lt;`` is ``&lt;`` is ``<``).
_DECODE_ROUNDS = 8
_SPECIAL_TOKENS = re.compile(
    r"<\|[^|>]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<\|?(?:im_start|im_end|endoftext)\|?>",
    re.IGNORECASE,
)
_ROLE_PREFIX = re.compile(
    r"^(\s*)(#{1,6}\s*)?(system|assistant|developer|instruction|user)(\s*[:>])",
    re.IGNORECASE | re.MULTILINE,
)


def _drop_blocks(text: str) -> str:
    """Drop ``<script>``/``<style>`` elements with their content (an unclosed one to the end)."""
    out: list[str] = []
    start = 0
    inside: str | None = None
    for match in _BLOCK_TAG.finditer(text):
        name = match[2].lower()
        if inside is None and not match[1]:
            out.append(text[start : match.start()])
            out.append(" ")
            inside = name
        elif inside == name and match[1]:
            inside = None
            start = match.end()
    if inside is None:
        out.append(text[start:])
    return "".join(out)


def strip_html(value: str) -> str:
    """Decode entities, then drop ``script``/``style`` elements and every tag, until stable.

    Decoding comes first, so ``&lt;script&gt;`` is removed as the tag it encodes rather
    than turned into one; a ``<`` that starts no tag (``5 < 6``) stays. Text encoded
    twice (``&amp;lt;b&amp;gt;``) and tags that a removal would assemble
    (``<scr<script>x</script>ipt>``) are handled by repeating the rounds until nothing
    changes. Every round is linear in the text.
    """
    for _ in range(_DECODE_ROUNDS):
        stripped = _TAG.sub(" ", _drop_blocks(html.unescape(value)))
        if stripped == value:
            break
        value = stripped
    return value


def sanitize(value: str, rules: VariableRules) -> str:
    """Apply a variable's sanitisation flags to a text value.

    - ``strip_html``: decode entities, then drop ``<script>``/``<style>`` elements and
      every tag, repeated until stable (:func:`strip_html`).
    - ``escape_injection``: remove chat-template control tokens (``<|im_start|>``,
      ``<|system|>``, ``[INST]``, ``<<SYS>>``, ``<s>``…), quote line-leading role markers
      (``System:`` becomes ``"System":``) and escape triple quotes and triple backticks,
      so a value cannot pose as a new message or close the block it is quoted in. It
      does not detect injected *instructions* in plain words ("ignore the above"): that
      is the ``injection`` guardrail's job.
    - ``collapse_whitespace``: runs of white space become one space; ends trimmed.

    Args:
        value: The raw value.
        rules: The variable's rules.

    Returns:
        The sanitised value.
    """
    if rules.strip_html:
        value = strip_html(value)
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
        result[name] = check_variable(prompt.name, name, value, rules)
    return result


def check_variable(prompt: str, name: str, value: Any, rules: VariableRules) -> Any:
    """Coerce, sanitise and check one given value against its variable's rules.

    Args:
        prompt: The prompt's name (for messages).
        name: The variable.
        value: The value given (not None).
        rules: The variable's rules.

    Returns:
        The value to render with.

    Raises:
        VariableError: Naming the prompt, the variable and the rule broken.
    """
    value = _coerce(prompt, name, value, rules.type)
    if isinstance(value, str):
        value = sanitize(value, rules)
    _check_rules(prompt, name, value, rules)
    return value


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

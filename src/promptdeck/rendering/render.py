"""Render a prompt's messages: plain templates directly, the rest in Jinja2's sandbox.

Templates made only of text and ``{{ name }}`` are filled without Jinja2 (:func:`_plain`,
held equal to Jinja2's output by a test); anything else runs in the bounded sandbox
(:mod:`.sandbox`) with ``StrictUndefined``, streamed, and stopped once the message
passes ``max_output_bytes``. Every refusal is one :class:`.RenderRefusedError` line
naming the prompt, the message and what was refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from promptdeck.errors import ConfigError
from promptdeck.rendering.limits import (
    DEFAULT_LIMITS,
    Budget,
    RenderLimits,
    RenderRefusedError,
    render_budget,
)
from promptdeck.rendering.templates import PromptTemplate, VariableError
from promptdeck.rendering.variables import check_variables

if TYPE_CHECKING:
    import jinja2

    from promptdeck.rendering.sandbox import BoundedEnvironment

__all__ = ["render_messages", "template_errors", "template_sources", "undeclared_names"]


@lru_cache(maxsize=1)
def _environment() -> BoundedEnvironment:
    # Imported here so that importing this module (and the registry reader) stays light.
    import jinja2

    from promptdeck.rendering.sandbox import BoundedEnvironment

    return BoundedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
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
    except RecursionError as exc:
        raise ConfigError(
            f"prompt {prompt.name!r}: {where}: the template nests too deeply to compile",
            "flatten the template's nested expressions or blocks",
        ) from exc


def template_errors(prompt: PromptTemplate) -> list[tuple[str, int, str]]:
    """(where, line in that template, message) for each template that does not compile.

    A syntax error or an unknown filter or test: what rendering would refuse whatever
    the values. Plain text and ``{{ name }}`` (see :func:`_plain`) need no compiling,
    nor Jinja2 imported: checking a new version of a plain prompt (the sync before a
    run) stays light.
    """
    found = []
    for where, source in template_sources(prompt):
        if not _JINJA_OPENER.search(source) or _plain(source) is not None:
            continue
        import jinja2

        try:
            _compiled(source)
        except jinja2.TemplateSyntaxError as exc:
            found.append((where, exc.lineno or 1, exc.message or str(exc)))
    return found


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


def _fill(
    prompt: PromptTemplate,
    where: str,
    source: str,
    values: Mapping[str, Any],
    limits: RenderLimits = DEFAULT_LIMITS,
) -> str:
    plain = _fill_plain(source, values)
    if plain is not None:
        if len(plain) > limits.max_output_bytes // 4:
            _check_output(prompt, where, len(plain.encode("utf-8")), limits)
        return plain
    import jinja2

    template = _compile(prompt, where, source)
    try:
        with render_budget(limits) as budget:
            return _stream(template, values, budget)
    except RenderRefusedError as exc:
        raise RenderRefusedError(f"prompt {prompt.name!r}: {where}: {exc.title}", exc.hint) from exc
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
    except RecursionError as exc:
        raise RenderRefusedError(
            f"prompt {prompt.name!r}: {where}: refused by the template sandbox: "
            "nesting too deep (recursion)",
            "a macro or recursive loop must stop calling itself",
        ) from exc
    except MemoryError as exc:
        raise RenderRefusedError(
            f"prompt {prompt.name!r}: {where}: refused by the template sandbox: out of memory",
            "make the template build less text",
        ) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        text = " ".join(str(exc).split())
        raise VariableError(
            f"prompt {prompt.name!r}: {where}: {text}", "check the template"
        ) from exc


def _stream(template: jinja2.Template, values: Mapping[str, Any], budget: Budget) -> str:
    """Render chunk by chunk, stopping once the output passes the byte limit."""
    limits = budget.limits
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**values):
        size += len(chunk) if chunk.isascii() else len(chunk.encode("utf-8"))
        if size > limits.max_output_bytes:
            raise budget.refuse(f"the rendering passed {limits.max_output_bytes:,} bytes")
        chunks.append(chunk)
    budget.check_time()
    return "".join(chunks)


def _check_output(prompt: PromptTemplate, where: str, size: int, limits: RenderLimits) -> None:
    if size > limits.max_output_bytes:
        raise RenderRefusedError(
            f"prompt {prompt.name!r}: {where}: refused by the template sandbox: the rendering "
            f"passed {limits.max_output_bytes:,} bytes",
            "shorten the template or its values, or raise [render] max_output_bytes "
            "in promptdeck.toml",
        )


def render_messages(
    prompt: PromptTemplate,
    values: Mapping[str, Any],
    *,
    allow_extra: bool = False,
    limits: RenderLimits = DEFAULT_LIMITS,
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Validate the variables and render the prompt's chat messages.

    Args:
        prompt: The prompt.
        values: Variable values.
        allow_extra: Ignore values for undeclared variables.
        limits: The bounds of each message's render (output, time, nesting).

    Returns:
        The messages (``{"role", "content"}``) and the checked values used.

    Raises:
        VariableError: A variable is missing or invalid, or the template misuses one.
        RenderRefusedError: The sandbox refused a render (too large, too long, too deep).
        ConfigError: A template does not compile.
    """
    checked = check_variables(prompt, values, allow_extra=allow_extra)
    messages: list[dict[str, str]] = []
    if prompt.messages:
        for i, (role, content) in enumerate(prompt.messages):
            messages.append(
                {"role": role, "content": _fill(prompt, f"messages[{i}]", content, checked, limits)}
            )
        return messages, checked
    if prompt.system is not None:
        messages.append(
            {"role": "system", "content": _fill(prompt, "system", prompt.system, checked, limits)}
        )
    for i, (shot_input, shot_output) in enumerate(prompt.examples):
        if isinstance(shot_input, Mapping):
            shot = check_variables(prompt, shot_input)
            user = _fill(prompt, f"examples[{i}]", prompt.template or "", shot, limits)
        else:
            user = shot_input
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": shot_output})
    user = _fill(prompt, "template", prompt.template or "", checked, limits)
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
    plain = _plain(source)
    if plain is not None:
        return set(plain[1])
    import jinja2
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(_environment().parse(source)))
    except jinja2.TemplateSyntaxError:
        return set()

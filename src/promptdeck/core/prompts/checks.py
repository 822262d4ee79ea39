"""What a prompt file must get right beyond its shape: templates that compile, known scanners.

:func:`load_prompt` is how a prompt file is read from disk (by the sync and by
lint): a template that does not compile (a syntax error, an unknown filter) or a
guardrail naming no scanner is an error of the file, with its line, exactly as a
YAML syntax error is. So ``run`` refuses it before any call and ``prompts lint``
fails on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.prompts.files import ParsedPrompt, PromptFile, parse_prompt_node
from promptdeck.core.prompts.templating import template_of
from promptdeck.core.workspace.yamlfile import yaml_line
from promptdeck.errors import ConfigError, location
from promptdeck.rendering import template_errors

if TYPE_CHECKING:
    from yaml import Node

__all__ = ["load_prompt", "prompt_problems"]


def load_prompt(text: str, path: Path | str) -> ParsedPrompt:
    """Parse a prompt file and check its templates and guardrails.

    Raises:
        ConfigError: The first problem, with file and line.
    """
    parsed, node = parse_prompt_node(text, path)
    problems = prompt_problems(parsed.file, node, str(path))
    if problems:
        raise problems[0]
    return parsed


def _value_line(node: Node | None, loc: list[str | int], offset: int) -> int | None:
    """The file line of line ``offset`` (1-based) of the text value at ``loc``."""
    line = yaml_line(node, loc)
    if line is None or node is None:
        return line
    current: Node | None = node
    for part in loc:
        current = _child(current, part)
    if current is None:
        return line
    # A block scalar (| or >) starts on the line after its indicator.
    style = getattr(current, "style", None)
    start = current.start_mark.line + 1
    return start + offset if style in ("|", ">") else start + offset - 1


def _child(node: Node | None, part: str | int) -> Node | None:
    value = getattr(node, "value", None)
    if not isinstance(value, list):
        return None
    found: Node | None = None
    if isinstance(part, int):
        if 0 <= part < len(value) and not isinstance(value[0], tuple):
            found = value[part]
        return found
    for key, child in value:
        if getattr(key, "value", None) == part:
            found = child
            break
    return found


def prompt_problems(prompt: PromptFile, node: Node | None, rel: str) -> list[ConfigError]:
    """Every template that does not compile and every unknown scanner, with file and line."""
    from promptdeck.core.guardrails.base import scanners

    problems: list[ConfigError] = []
    for where, line, message in template_errors(template_of(prompt)):
        loc: list[str | int] = (
            ["messages", int(where[9:-1]), "content"] if where.startswith("messages[") else [where]
        )
        problems.append(
            ConfigError(
                f"{location(rel, _value_line(node, loc, line))}: {where} does not compile: "
                f"{message}",
                "fix the Jinja2 syntax ({{ var }}, {% if %}...{% endif %}; filters: "
                "see docs/formats.md)",
            )
        )
    if prompt.guardrails is not None:
        known = scanners()
        for side in ("input", "output"):
            for index, rule in enumerate(getattr(prompt.guardrails, side)):
                if rule.scanner not in known:
                    at = yaml_line(node, ["guardrails", side, index, "scanner"])
                    problems.append(
                        ConfigError(
                            f"{location(rel, at)}: guardrails.{side}: unknown guardrail "
                            f"scanner {rule.scanner!r}",
                            f"use one of: {', '.join(known)}",
                        )
                    )
    return problems

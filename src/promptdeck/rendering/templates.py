"""What rendering needs of a prompt: its templates and its variables' rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promptdeck.errors import UsageError

__all__ = ["PromptTemplate", "VariableError", "VariableRules", "template_from_dict"]


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

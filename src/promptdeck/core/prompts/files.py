"""The prompt file format: ``prompts/<name>.prompt.yaml``, parsed and canonicalised.

A prompt file is the user's: promptdeck reads it, never rewrites it. Each distinct
canonical form becomes an immutable version in the database, identified by the
SHA-256 of that canonical text.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from promptdeck.core.workspace.yamlfile import dump_yaml, load_model
from promptdeck.errors import ConfigError

if TYPE_CHECKING:
    from yaml import Node

__all__ = [
    "PROMPT_SUFFIX",
    "GuardrailRule",
    "Guardrails",
    "Message",
    "ParsedPrompt",
    "PromptFile",
    "PromptParams",
    "VariableSpec",
    "parse_canonical",
    "parse_prompt",
    "parse_prompt_node",
    "prompt_name_from_path",
]

PROMPT_SUFFIX = ".prompt.yaml"
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableSpec(_Strict):
    """How one template variable is validated and sanitised before rendering."""

    required: bool = False
    default: Any = None
    description: str | None = None
    type: Literal["string", "integer", "number", "boolean"] | None = None
    max_length: int | None = Field(default=None, gt=0)
    pattern: str | None = None
    enum: list[Any] | None = None
    strip_html: bool = False
    collapse_whitespace: bool = False
    escape_injection: bool = False

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return value


class GuardrailRule(BaseModel):
    """One scanner applied to the input or the output, with its action."""

    model_config = ConfigDict(extra="allow", frozen=True)
    scanner: str
    action: Literal["block", "redact", "warn", "rewrite"] = "warn"
    threshold: float | None = Field(default=None, ge=0, le=1)


class Guardrails(_Strict):
    """Scanners run on the rendered input and on the model's answer."""

    input: list[GuardrailRule] = Field(default_factory=list)
    output: list[GuardrailRule] = Field(default_factory=list)


class Message(_Strict):
    """One chat message of a ``messages:`` prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


class Example(_Strict):
    """A few-shot pair."""

    input: str | dict[str, Any]
    output: str


class PromptParams(_Strict):
    """Model call parameters a prompt asks for."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    stop: list[str] | str | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: dict[str, Any] | None = None


class PromptFile(_Strict):
    """The content of one prompt file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    model: str | None = None
    params: PromptParams = Field(default_factory=PromptParams)
    system: str | None = None
    template: str | None = None
    messages: list[Message] | None = None
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    examples: list[Example] = Field(default_factory=list)
    guardrails: Guardrails | None = None

    @field_validator("variables", mode="before")
    @classmethod
    def _empty_specs(cls, value: Any) -> Any:
        # `variables: {ticket: }` declares a variable with no rules.
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_body(self) -> PromptFile:
        if self.template is None and not self.messages:
            raise ValueError("a prompt needs a `template:` (the user message) or `messages:`")
        if self.template is not None and self.messages:
            raise ValueError("give either `template:` or `messages:`, not both")
        if self.messages and self.system is not None:
            raise ValueError("with `messages:`, put the system text in a system message")
        return self

    def canonical(self) -> str:
        """Return the canonical YAML: defaults and empty fields left out, stable order."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        return dump_yaml(data)


class ParsedPrompt(BaseModel):
    """A prompt file read from disk: its content and identity."""

    model_config = ConfigDict(frozen=True)
    file: PromptFile
    canonical: str
    content_hash: str


def parse_canonical(name: str, content: str) -> PromptFile:
    """Parse a prompt's canonical text (``ParsedPrompt.canonical``, a stored version's)."""
    return load_model(PromptFile, content, f"{name}{PROMPT_SUFFIX}", what="prompt file")[0]


def prompt_name_from_path(path: Path) -> str:
    """Return the prompt name a file's name implies (``x.prompt.yaml`` -> ``x``)."""
    return path.name.removesuffix(PROMPT_SUFFIX)


def parse_prompt(text: str, path: Path | str) -> ParsedPrompt:
    """Parse and validate a prompt file's text.

    Args:
        text: The file's text.
        path: The file (for messages, and the name check).

    Returns:
        The parsed prompt with its canonical form and content hash.

    Raises:
        ConfigError: With file and line, when the file is invalid.
    """
    return parse_prompt_node(text, path)[0]


def parse_prompt_node(text: str, path: Path | str) -> tuple[ParsedPrompt, Node | None]:
    """:func:`parse_prompt`, and the file's YAML node tree (for line look-ups).

    Raises:
        ConfigError: With file and line, when the file is invalid.
    """
    prompt, node = load_model(PromptFile, text, path, what="prompt file")
    expected = prompt_name_from_path(Path(path))
    if prompt.name != expected:
        raise ConfigError(
            f"{path}:1: name {prompt.name!r} does not match the file name",
            f"rename the file to {prompt.name}{PROMPT_SUFFIX} or set `name: {expected}`",
        )
    canonical = prompt.canonical()
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return ParsedPrompt(file=prompt, canonical=canonical, content_hash=digest), node

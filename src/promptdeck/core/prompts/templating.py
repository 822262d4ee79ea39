"""Render a prompt file: the workbench's entry to :mod:`promptdeck.rendering`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.prompts.files import PromptFile
from promptdeck.rendering import (
    DEFAULT_LIMITS,
    PromptTemplate,
    RenderLimits,
    VariableError,
    render_messages,
    template_from_dict,
    template_sources,
    undeclared_names,
)

__all__ = [
    "RenderedPrompt",
    "VariableError",
    "render_limits",
    "render_prompt",
    "template_of",
    "template_variables",
]


def render_limits(config: WorkspaceConfig | None) -> RenderLimits:
    """Return the render bounds ``[render]`` of ``promptdeck.toml`` sets (or the defaults)."""
    if config is None:
        return DEFAULT_LIMITS
    section = config.render
    return RenderLimits(max_output_bytes=section.max_output_bytes, timeout=section.timeout)


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to send: chat messages, parameters and the values used.

    Attributes:
        name: The prompt's name.
        version: Its version number, when rendered from a stored version.
        messages: Chat messages, each ``{"role": ..., "content": ...}``.
        params: Call parameters the prompt asks for (None values left out).
        model: The prompt's own default model, if it names one.
        variables: The validated, sanitised values that were used.
    """

    name: str
    version: int | None
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Return the messages as one text block (for display, lint and token counts)."""
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages)


_TEMPLATES: OrderedDict[int, tuple[PromptFile, PromptTemplate]] = OrderedDict()
_TEMPLATES_KEPT = 64
_TEMPLATES_LOCK = threading.Lock()


def template_of(prompt: PromptFile) -> PromptTemplate:
    """Return what rendering needs of a prompt file.

    Prompt files are frozen, so the template of each is built once (for the last 64
    prompts seen): an eval run renders the same prompt for thousands of cells.
    """
    key = id(prompt)
    with _TEMPLATES_LOCK:
        kept = _TEMPLATES.get(key)
        if kept is not None and kept[0] is prompt:
            _TEMPLATES.move_to_end(key)
            return kept[1]
    template = template_from_dict(prompt.model_dump(mode="json", exclude_none=True))
    with _TEMPLATES_LOCK:
        _TEMPLATES[key] = (prompt, template)
        if len(_TEMPLATES) > _TEMPLATES_KEPT:
            _TEMPLATES.popitem(last=False)
    return template


def render_prompt(
    prompt: PromptFile,
    values: Mapping[str, Any],
    *,
    version: int | None = None,
    allow_extra: bool = False,
    config: WorkspaceConfig | None = None,
) -> RenderedPrompt:
    """Validate the variables and render the prompt's messages.

    Few-shot ``examples`` become user/assistant pairs after the system message; an
    example whose ``input`` is a mapping is rendered through the template with
    those values.

    Args:
        prompt: The prompt.
        values: Variable values.
        version: The stored version being rendered, if any (recorded in the result).
        allow_extra: Ignore values for undeclared variables.
        config: The workspace's settings, for its render bounds (``[render]``).

    Returns:
        The rendered prompt.

    Raises:
        VariableError: A variable is missing or invalid, or the template misuses one;
            a ``RenderRefusedError`` when the sandbox refuses the render.
        ConfigError: A template does not compile.
    """
    messages, checked = render_messages(
        template_of(prompt), values, allow_extra=allow_extra, limits=render_limits(config)
    )
    return RenderedPrompt(
        name=prompt.name,
        version=version,
        messages=messages,
        params=prompt.params.model_dump(exclude_none=True),
        model=prompt.model,
        variables=checked,
    )


def template_variables(prompt: PromptFile) -> set[str]:
    """Return the variable names the prompt's templates use (for lint)."""
    names: set[str] = set()
    for _, source in template_sources(template_of(prompt)):
        names |= undeclared_names(source)
    return names

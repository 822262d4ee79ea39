"""Lint: render a prompt the way ``run`` and ``eval`` would, and report what the sandbox refuses.

A template that would be refused at run time (too much output, too long, a width or
repeat past the limits, a macro that recurses) fails ``prompts lint`` with the same
one line, rendered with the cases of the suites that use the prompt and with sample
values for its variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.evals.suites import LoadedSuite
from promptdeck.core.prompts.files import PromptFile
from promptdeck.core.prompts.templating import render_prompt
from promptdeck.errors import PromptdeckError
from promptdeck.rendering import RenderRefusedError

__all__ = ["MAX_CASES", "render_refusal", "sample_values"]

#: Suite cases rendered per prompt by lint (the rest are rendered by ``eval`` itself).
MAX_CASES = 20

_SAMPLES: Mapping[str | None, Any] = {"integer": 1, "number": 1.0, "boolean": True}


def sample_values(prompt: PromptFile) -> dict[str, Any]:
    """Values for every variable without a default: its first allowed value, or a sample."""
    values: dict[str, Any] = {}
    for name, spec in prompt.variables.items():
        if spec.default is None:
            values[name] = spec.enum[0] if spec.enum else _SAMPLES.get(spec.type, f"<{name}>")
    return values


def _value_sets(prompt: PromptFile, suites: list[LoadedSuite]) -> Iterator[tuple[str, Any]]:
    yield "", sample_values(prompt)
    cases = (case for suite in suites for case in suite.cases)
    for _, case in zip(range(MAX_CASES), cases, strict=False):
        yield f"{case.source}: ", case.vars


def render_refusal(
    prompt: PromptFile, suites: list[LoadedSuite], config: WorkspaceConfig
) -> str | None:
    """Return the sandbox's refusal of the first render it refuses, or None.

    Other render errors (a missing variable, a bad value) are left to the checks that
    name them; only what the sandbox refuses is reported here.
    """
    for where, values in _value_sets(prompt, suites):
        try:
            render_prompt(prompt, values, allow_extra=True, config=config)
        except RenderRefusedError as error:
            return f"{where}{error.title}"
        except PromptdeckError:
            continue
    return None

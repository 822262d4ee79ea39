"""Validate, sanitise and render prompt templates: the one implementation of rendering.

Pure and light (plain dataclasses, Jinja2, no pydantic), so that both the workbench
(through :mod:`promptdeck.core.prompts.templating`) and the runtime registry reader
(:mod:`promptdeck.registry`) render with exactly the same code.

Templates run in Jinja2's immutable sandbox with ``StrictUndefined``: they can use
variables, filters and conditionals, but never reach Python internals or the
filesystem, and a variable used without a value is an error, not an empty string.
Every render is bounded (:mod:`.limits`, :mod:`.sandbox`): its output's size, its
time, and the size of every string, sequence and number it builds.

:mod:`.templates` holds what rendering needs of a prompt, :mod:`.variables` checks
the values given for its variables and :mod:`.render` renders its messages; their
public names are all here.
"""

from promptdeck.rendering.limits import DEFAULT_LIMITS, RenderLimits, RenderRefusedError
from promptdeck.rendering.render import (
    render_messages,
    template_errors,
    template_sources,
    undeclared_names,
)
from promptdeck.rendering.templates import (
    PromptTemplate,
    VariableError,
    VariableRules,
    template_from_dict,
)
from promptdeck.rendering.variables import check_variables, sanitize

__all__ = [
    "DEFAULT_LIMITS",
    "PromptTemplate",
    "RenderLimits",
    "RenderRefusedError",
    "VariableError",
    "VariableRules",
    "check_variables",
    "render_messages",
    "sanitize",
    "template_errors",
    "template_from_dict",
    "template_sources",
    "undeclared_names",
]

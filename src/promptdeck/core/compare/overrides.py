"""Per-column parameters of a compare: one model at two temperatures, side by side.

A :class:`ColumnOverride` holds call parameters (``temperature``, ``max_tokens``,
``top_p``, ``seed``…) and an optional system prompt for one column. Its parameters
go over every other level, as a call's own (see
:func:`~promptdeck.core.providers.params.effective_params`); its system prompt
replaces the prompt's system message (or is put first when the prompt has none).
The prompt file is never touched; the gateway records the override with the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from promptdeck.core.providers.params import parse_param

if TYPE_CHECKING:
    from promptdeck.core.gateway.spec import CallSpec

__all__ = ["OVERRIDE_FIELDS", "ColumnOverride", "apply_override", "parse_override"]

OVERRIDE_FIELDS = ("temperature", "max_tokens", "top_p", "seed")
"""The parameters a column's override offers, in the order they are shown."""


@dataclass(frozen=True)
class ColumnOverride:
    """One column's own parameters and system prompt.

    Attributes:
        params: Call parameters over every other level.
        system: A system prompt replacing the prompt's (None: the prompt's own).
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    system: str | None = None

    @property
    def empty(self) -> bool:
        """True when the override changes nothing."""
        return not self.params and self.system is None

    @property
    def label(self) -> str:
        """How the override reads in a column header: ``temperature=1.2 · system*``."""
        parts = [f"{key}={value}" for key, value in self.params.items()]
        if self.system is not None:
            parts.append("system*")
        return " · ".join(parts)

    def record(self) -> dict[str, Any]:
        """The override as stored with the answer (JSON-ready)."""
        data: dict[str, Any] = dict(self.params)
        if self.system is not None:
            data["system"] = self.system
        return data


def parse_override(fields: Mapping[str, str], system: str | None = None) -> ColumnOverride:
    """Build an override from the dialog's fields (blank fields are left to the prompt).

    Args:
        fields: Parameter name -> text typed (``"0.2"``, ``""``).
        system: The system prompt typed; blank or None keeps the prompt's.

    Returns:
        The override, its values typed as ``--param`` would type them.

    Raises:
        UsageError: An unknown parameter or a value of the wrong type.
    """
    params: dict[str, Any] = {}
    for key, text in fields.items():
        if text.strip():
            name, value = parse_param(f"{key}={text.strip()}")
            params[name] = value
    return ColumnOverride(params, system if system and system.strip() else None)


def apply_override(spec: CallSpec, override: ColumnOverride | None) -> CallSpec:
    """The call with the column's parameters over its own and its system prompt in place.

    Returns:
        ``spec`` itself when there is nothing to apply.
    """
    if override is None or override.empty:
        return spec
    messages = [dict(m) for m in spec.messages]
    if override.system is not None:
        if messages and messages[0].get("role") == "system":
            messages[0]["content"] = override.system
        else:
            messages.insert(0, {"role": "system", "content": override.system})
    return replace(
        spec,
        messages=messages,
        overrides={**spec.overrides, **override.params},
        column_override=override.record(),
    )

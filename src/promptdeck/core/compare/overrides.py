"""Per-column parameters of a compare: one model at two temperatures, side by side.

A :class:`ColumnOverride` holds call parameters (``temperature``, ``max_tokens``,
``top_p``, ``seed``…) and an optional system prompt for one column. Its parameters
go over every other level, as a call's own (see
:func:`~promptdeck.core.providers.params.effective_params`); its system prompt
replaces the prompt's system message (or is put first when the prompt has none).
The prompt file is never touched; the gateway records the override with the answer.

On the command line a column is named by its number, as the headers count them
(versions × models, left to right, from 1): ``--col-param 2:temperature=1.0`` and
``--col-system 2:"Answer in French."``; :func:`parse_column_options` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from promptdeck.core.providers.params import parse_param
from promptdeck.errors import UsageError

if TYPE_CHECKING:
    from promptdeck.core.gateway.spec import CallSpec

__all__ = [
    "OVERRIDE_FIELDS",
    "ColumnOverride",
    "apply_override",
    "parse_column_options",
    "parse_override",
]

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


def _column(option: str, text: str, count: int, example: str) -> tuple[int, str]:
    """Split ``N:REST`` into the column's index (from 0) and the rest, checking N."""
    number, sep, rest = text.partition(":")
    columns = f"columns 1 to {count}" if count > 1 else "column 1 only"
    if not sep or not number.strip().isdigit():
        raise UsageError(
            f"{option} {text!r}: does not start with a column number and ':'",
            f"write e.g. {option} {example} (this compare has {columns})",
        )
    index = int(number.strip())
    if not 1 <= index <= count:
        raise UsageError(
            f"{option} {text!r}: there is no column {index} (this compare has {columns})",
            "columns count versions × models from 1, left to right, as the headers show",
        )
    return index - 1, rest


def parse_column_options(
    params: Sequence[str], systems: Sequence[str], count: int
) -> dict[int, ColumnOverride]:
    """Read ``--col-param N:KEY=VALUE`` and ``--col-system N:TEXT`` into overrides.

    Args:
        params: Each ``N:KEY=VALUE`` (a later one for the same column and key wins).
        systems: Each ``N:TEXT``, a column's system prompt (a later one wins).
        count: How many columns the compare has (prompt versions × models).

    Returns:
        Column index (from 0) -> its override, for the columns named.

    Raises:
        UsageError: A column number missing or out of range, a parameter that
            ``--param`` would refuse, or an empty system prompt; the message quotes
            the option as given.
    """
    found: dict[int, tuple[dict[str, Any], str | None]] = {}
    for text in params:
        index, pair = _column("--col-param", text, count, "2:temperature=1.0")
        if "=" not in pair:
            raise UsageError(
                f"--col-param {text!r}: {pair.strip()!r} is not KEY=VALUE",
                f"write e.g. --col-param {index + 1}:temperature=1.0",
            )
        try:
            key, value = parse_param(pair)
        except UsageError as error:
            reason = error.title.removeprefix(f"--param {pair!r}").lstrip(": ")
            raise UsageError(
                f"--col-param {text!r}: {reason}",
                error.hint.replace("--param ", f"--col-param {index + 1}:"),
            ) from None
        found.setdefault(index, ({}, None))[0][key] = value
    for text in systems:
        index, system = _column("--col-system", text, count, "2:'Answer in French.'")
        if not system.strip():
            raise UsageError(
                f"--col-system {text!r}: the system prompt is empty",
                f"write the text after the colon, e.g. --col-system {index + 1}:'Be brief.'",
            )
        found[index] = (found.get(index, ({}, None))[0], system)
    return {index: ColumnOverride(p, s) for index, (p, s) in sorted(found.items())}

"""Call parameters: which level wins, and parameters given on the command line.

A call's parameters come from four levels; a later level wins, key by key:

1. the workspace's defaults (``params`` in ``promptdeck.toml``),
2. the prompt's ``params:``,
3. the alias's ``params`` (``[models.<alias>]``),
4. the call's own overrides (``run --param``, ``compare --param``, a judge's own).

So an alias ``smol-hot`` with ``temperature = 1.2`` runs at 1.2 whatever the prompt
asks for, and Compare can contrast two aliases of one model. A ``None`` value at any
level leaves the key to the levels below. :func:`effective_params` is the one place
this order is written; the router builds every request with it and the gateway
records its result on the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptdeck.errors import ConfigError, UsageError
from promptdeck.safeload.limits import LimitError
from promptdeck.safeload.tomlload import loads_toml

__all__ = ["PARAM_TYPES", "effective_params", "parse_param", "parse_params"]

PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": (int,),
    "max_tokens": (int,),
    "max_completion_tokens": (int,),
    "seed": (int,),
    "stop": (str, list),
    "presence_penalty": (int, float),
    "frequency_penalty": (int, float),
    "repeat_penalty": (int, float),
}
"""The parameters a call may override, and the types their values may take."""


def effective_params(
    *,
    defaults: Mapping[str, Any] | None = None,
    prompt: Mapping[str, Any] | None = None,
    alias: Mapping[str, Any] | None = None,
    override: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the four levels of call parameters; a later level wins, key by key.

    Args:
        defaults: The workspace's ``params``.
        prompt: The prompt's ``params:``.
        alias: The alias's ``params``.
        override: The call's own (``--param``, a compare column, a judge).

    Returns:
        The parameters the call is made with (``None`` values dropped).
    """
    merged: dict[str, Any] = {}
    for level in (defaults, prompt, alias, override):
        if level:
            merged.update((key, value) for key, value in level.items() if value is not None)
    return merged


def _value(text: str) -> Any:
    """A TOML/JSON scalar or list (``1.2``, ``true``, ``["a", "b"]``), else the text itself."""
    try:
        return loads_toml(f"v = {text}", "--param")["v"]
    except LimitError:
        raise
    except ConfigError:
        return text


def parse_param(pair: str) -> tuple[str, Any]:
    """Parse one ``KEY=VALUE`` parameter (the value read as a TOML/JSON scalar).

    Raises:
        UsageError: No ``=``, an unknown parameter, or a value of the wrong type.
    """
    key, sep, raw = pair.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--param {pair!r} is not KEY=VALUE", "write e.g. --param temperature=0.2")
    if key not in PARAM_TYPES:
        raise UsageError(
            f"--param {pair!r}: unknown parameter {key!r}",
            f"use one of: {', '.join(sorted(PARAM_TYPES))}",
        )
    value = _value(raw.strip())
    types = PARAM_TYPES[key]
    if isinstance(value, bool) or not isinstance(value, types):
        if str in types:
            value = raw.strip()
        else:
            kind = "an integer" if types == (int,) else "a number"
            raise UsageError(
                f"--param {pair!r}: {key} must be {kind}", f"write e.g. --param {key}=1"
            )
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise UsageError(
            f"--param {pair!r}: {key} must be a string or a list of strings",
            f"write e.g. --param {key}='[\"END\"]'",
        )
    return key, value


def parse_params(pairs: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Parse several ``KEY=VALUE`` parameters (the last of a repeated key wins).

    Raises:
        UsageError: As :func:`parse_param`.
    """
    return dict(parse_param(pair) for pair in pairs)

"""Safe YAML reading with errors that name the file and line.

User files are read only through :mod:`promptdeck.safeload` (``yaml.safe_load``
semantics, no tags that run code, bounded nesting and aliases, unique keys).
Validation errors from pydantic are mapped back to the line of the offending key by
walking the composed node tree, so a user sees ``prompts/x.prompt.yaml:12: ...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from promptdeck.errors import ConfigError, location
from promptdeck.safeload.yamlload import UNICODE_BREAKS, load_yaml

__all__ = ["dump_yaml", "load_model", "read_yaml", "yaml_line"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_yaml(text: str, path: Path | str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text safely, keeping its node tree for line look-ups.

    It reads through :func:`promptdeck.safeload.yamlload.load_yaml`: no code-running
    tags, nesting, aliases and duplicate keys refused past the limits of
    :mod:`promptdeck.safeload.limits`.

    Args:
        text: The YAML text.
        path: The file it came from (for messages).

    Returns:
        The data and the root node (None for an empty document).

    Raises:
        ConfigError: On a syntax error or a passed limit, with file and line.
    """
    return load_yaml(text, path)


def yaml_line(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """Return the 1-based line of the node at ``loc`` (or its nearest existing parent).

    Args:
        node: The root node from :func:`read_yaml`.
        loc: A path of mapping keys and sequence indexes.

    Returns:
        The line number, or None when there is no node.
    """
    if node is None:
        return None
    line = node.start_mark.line + 1
    current: yaml.Node = node
    for part in loc:
        found: yaml.Node | None = None
        key_line: int | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if str(key_node.value) == str(part):
                    found, key_line = value_node, key_node.start_mark.line + 1
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            found = current.value[part]
        if found is None:
            break
        current = found
        line = key_line if key_line is not None else found.start_mark.line + 1
    return line


def load_model(
    model: type[ModelT], text: str, path: Path | str, *, what: str = "file"
) -> tuple[ModelT, yaml.Node | None]:
    """Parse and validate YAML text into ``model``.

    Args:
        model: The pydantic model to validate against.
        text: The YAML text.
        path: The file it came from (for messages).
        what: What the file is, for messages ("prompt file", "suite").

    Returns:
        The validated model and the root node (for :func:`yaml_line` look-ups later).

    Raises:
        ConfigError: With file and line, on a syntax or schema error.
    """
    data, node = read_yaml(text, path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{location(path, 1)}: a {what} must be a YAML mapping (key: value lines)",
            f"see docs/formats.md for the {what} format",
        )
    try:
        return model.model_validate(data), node
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [p for p in first["loc"] if isinstance(p, str | int)]
        line = yaml_line(node, loc)
        dotted = ".".join(str(p) for p in loc)
        key = f"{dotted}: " if dotted else ""
        msg = str(first["msg"])
        if first["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(
            f"{location(path, line)}: {key}{msg}{more}",
            f"see docs/formats.md for the {what} format",
        ) from exc


class _BlockDumper(yaml.SafeDumper):
    """A dumper that writes multi-line strings as ``|`` block scalars."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in UNICODE_BREAKS):
        # Written escaped (\L, \P, \N): any other style would make them YAML 1.1 breaks.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value and value.strip():
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if value and not value.strip():
        # Whitespace only ("\n" as a stop sequence): escaped, on one line.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)

_CBase: Any = getattr(yaml, "CSafeDumper", None)


class _CBlockDumper(_CBase or yaml.SafeDumper):  # type: ignore[misc]
    """The same dumper over LibYAML's emitter: for large documents only."""


_CBlockDumper.add_representer(str, _str_representer)

_LARGE = 256 * 1024
"""Text size past which LibYAML's emitter writes the YAML (the Python one takes ~4 s a MB).

Below it the Python emitter keeps writing it, so the canonical form (and the content
hash) of every ordinary prompt stays what it always was.
"""


def _text_size(data: Any) -> int:
    size, stack = 0, [data]
    while stack and size <= _LARGE:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return size


def dump_yaml(data: Any) -> str:
    """Write data as minimal, diff-friendly YAML (block scalars, stable key order).

    Args:
        data: Plain data (dicts keep their insertion order).

    Returns:
        The YAML text.
    """
    dumper = _CBlockDumper if _CBase is not None and _text_size(data) > _LARGE else _BlockDumper
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)

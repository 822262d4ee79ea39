"""TOML read within the limits: bounded nesting, file and line on every error.

``tomllib`` recurses once per nested inline table or array (3,000 levels end in a
``RecursionError``), so the nesting is counted first, by a scan that skips strings
and comments. A key defined twice is named with both of its lines.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from typing import Any

from promptdeck.errors import ConfigError, location
from promptdeck.safeload.limits import MAX_DEPTH, bracket_depth_error, depth_error

__all__ = ["loads_toml", "toml_line"]

_TOKENS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]'
)
"""A TOML string or comment (skipped), or one bracket."""

_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TWICE = ("Cannot overwrite", "Cannot declare", "Cannot mutate")


def loads_toml(text: str, path: str | Any, *, what: str = "file") -> dict[str, Any]:
    """Parse TOML text.

    Args:
        text: The TOML text.
        path: The file, for messages.
        what: What the file is, for the hint.

    Returns:
        The data.

    Raises:
        ConfigError: On a syntax error, a key defined twice or nesting past the limit,
            naming the file and line.
    """
    where = str(path)
    error = bracket_depth_error(text, _TOKENS, where)
    if error is not None:
        raise error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_AT.search(message)
        line = int(match.group(1)) if match else None
        reason = _TOML_AT.sub("", message).strip()
        hint = "fix the syntax at that line (strings need quotes, tables need [brackets])"
        if line is not None and reason.startswith(_TWICE):
            first = _first_definition(text, line)
            if first is not None:
                reason = f"{reason} (first defined at line {first})"
            hint = f"define each key once in the {what}"
        raise ConfigError(f"{location(where, line)}: invalid TOML: {reason}", hint) from exc
    except RecursionError as exc:
        raise depth_error(where, None) from exc
    _check_depth(data, text, where)
    return data


def _check_depth(data: dict[str, Any], text: str, where: str) -> None:
    """Refuse tables nested past the limit through dotted keys (``a.b.c... = 1``)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            raise depth_error(where, toml_line(text, [str(p) for p in loc]))
        if isinstance(value, dict):
            stack.extend((v, (*loc, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*loc, str(i))) for i, v in enumerate(value))


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _split_key(raw: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', raw)
    return tuple(next(p for p in groups if p) for groups in parts)


def _paths(text: str) -> list[tuple[int, tuple[str, ...], bool]]:
    """Each line that defines something: (line, key path, is a table header)."""
    found: list[tuple[int, tuple[str, ...], bool]] = []
    table: tuple[str, ...] = ()
    # TOML lines end at "\n" only (strings may hold U+2028 and other Unicode breaks).
    for number, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            found.append((number, table, True))
            continue
        key = _KEY.match(line)
        if key:
            found.append((number, table + _split_key(key.group(1)), False))
    return found


def _first_definition(text: str, line: int) -> int | None:
    """The earlier line defining what line ``line`` defines again, if any."""
    paths = _paths(text)
    at = next((p for n, p, _ in paths if n == line), None)
    if at is None:
        return None
    return next((n for n, p, _ in paths if p == at and n < line), None)


def toml_line(text: str, loc: Sequence[str]) -> int | None:
    """Find the line of a TOML document that defines ``loc`` (or its nearest parent).

    Args:
        text: The TOML text.
        loc: A key path such as ``("models", "fast", "temperature")``.

    Returns:
        The 1-based line number, or None when nothing matches.
    """
    target = tuple(loc)
    best: tuple[int, int] | None = None  # (matched length, line)
    for number, path, _ in _paths(text):
        size = _common_prefix(path, target)
        if size == len(path) and (best is None or size > best[0]):
            best = (size, number)
    return best[1] if best and best[0] > 0 else None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    size = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        size += 1
    return size

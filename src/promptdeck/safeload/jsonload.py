"""JSON and JSON Lines read within the limits: bounded nesting, unique keys, file and line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from promptdeck.errors import ConfigError, location
from promptdeck.safeload.limits import bracket_depth_error, depth_error, line_at

__all__ = ["json_lines", "loads_json"]

_TOKENS = re.compile(r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"|[\[\]{}]')
"""A JSON string (skipped) or one bracket."""


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


def loads_json(text: str, where: str, *, first_line: int = 1, hint: str = "") -> Any:
    """Parse one JSON document.

    Args:
        text: The JSON text.
        where: The file, for messages.
        first_line: The line of the file ``text`` starts at (a JSON Lines row's).
        hint: What to do about a syntax error (default: a generic hint).

    Returns:
        The data.

    Raises:
        ConfigError: On a syntax error, a key given twice or nesting past the limit,
            naming the file and line.
    """
    error = bracket_depth_error(text, _TOKENS, where, first_line=first_line)
    if error is not None:
        raise error
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{location(where, first_line + exc.lineno - 1)}: invalid JSON: {exc.msg}",
            hint or "check the JSON syntax at that line",
        ) from exc
    except _DuplicateKeyError as exc:
        raise _duplicate(text, exc.key, where, first_line) from exc
    except RecursionError as exc:
        raise depth_error(where, first_line) from exc
    except ValueError as exc:  # an integer too long to convert, say
        raise ConfigError(
            f"{location(where, first_line)}: invalid JSON: {exc}", "check the values"
        ) from exc


def _duplicate(text: str, key: str, where: str, first_line: int) -> ConfigError:
    lines = [first_line + n - 1 for n in _key_lines(text, key)]
    line = lines[1] if len(lines) > 1 else first_line
    first = f" (first at line {lines[0]})" if len(lines) > 1 and lines[0] != line else ""
    return ConfigError(
        f"{location(where, line)}: key {key!r} is given twice{first}",
        "remove one of them: keys must be unique in an object",
    )


def _key_lines(text: str, key: str) -> list[int]:
    """The lines ``key`` is written on as an object key (first two)."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    return [line_at(text, m.start()) for m in pattern.finditer(text)][:2]


def json_lines(text: str, where: str) -> Iterator[tuple[int, Any]]:
    """Parse JSON Lines: (line number, value) for each line that is not blank.

    Lines end at a newline only: ``str.splitlines`` would also split inside
    strings holding U+2028, U+2029 or U+0085, which JSON allows unescaped.

    Raises:
        ConfigError: For the first line that is not valid JSON (see :func:`loads_json`).
    """
    start, number = 0, 1
    while start <= len(text):  # line by line, without a list of every line
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if line.strip():
            yield number, loads_json(line, where, first_line=number, hint="one JSON value per line")
        start, number = end + 1, number + 1


def json_array(text: str, where: str) -> Iterator[tuple[int, Any]]:
    """Parse a JSON array: (line each item starts at, the item).

    Raises:
        ConfigError: The text is not one JSON array, or an item is invalid (see
            :func:`loads_json`), naming the file and line.
    """
    try:
        data = loads_json(text, where)
    except ConfigError as error:
        if " is given twice" not in error.title:
            raise
        data = None  # found again below, item by item, with its lines
    if data is None:
        _find_duplicate(text, where)
    if not isinstance(data, list):
        raise ConfigError(
            f"{location(where, 1)}: a JSON dataset must be an array of cases",
            "write [{...}, {...}], or one object per line in a .jsonl file",
        )
    decoder = json.JSONDecoder(object_pairs_hook=_unique)
    at = text.index("[") + 1
    for item in data:
        at = _skip(text, at)
        start = at
        _, at = decoder.raw_decode(text, at)
        yield line_at(text, start), item
        at = _skip(text, at)
        if at < len(text) and text[at] == ",":
            at += 1


_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _find_duplicate(text: str, where: str) -> None:
    """Raise the duplicate key error of an array's first item that has one."""
    decoder = json.JSONDecoder(object_pairs_hook=_unique)
    at = _skip(text, 0)
    at = _skip(text, at + 1) if text[at : at + 1] == "[" else at
    while at < len(text) and text[at] != "]":
        start = at
        try:
            _, at = decoder.raw_decode(text, at)
        except _DuplicateKeyError as exc:
            offset = line_at(text, start)
            raise _duplicate(text[start:], exc.key, where, offset) from exc
        at = _skip(text, at)
        at = _skip(text, at + 1) if text[at : at + 1] == "," else at
    raise ConfigError(f"{where}: a key is given twice", "keys must be unique in an object")

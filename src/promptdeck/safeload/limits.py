"""The limits every user file is read under, and the checks shared by every format."""

from __future__ import annotations

import re
from pathlib import Path

from promptdeck.errors import ConfigError, location

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DATASET_BYTES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "LimitError",
    "bracket_depth_error",
    "depth_error",
    "line_at",
    "read_text",
]


class LimitError(ConfigError):
    """A file passed one of the limits below (size, nesting, alias expansion)."""


MAX_DEPTH = 100
"""Deepest nesting of mappings and lists (tables and arrays) in any user file.

Real files stay far below it (a JSON Schema under ``response_format`` rarely passes
20); past it the C YAML parser overflows its stack and the other readers recurse.
"""

MAX_ALIAS_NODES = 100_000
"""Nodes YAML aliases may expand to in one file, all aliases together.

An alias (``*name``) repeats what its anchor holds; nine nested aliases of nine
items each make a billion. Plain files use no aliases at all.
"""

MAX_FILE_BYTES = 32 * 2**20
"""Largest ``promptdeck.toml``, prompt file, suite, guard suite or theme (32 MiB)."""

MAX_DATASET_BYTES = 128 * 2**20
"""Largest dataset file (JSONL, JSON, CSV, YAML) a suite or ``guard`` reads (128 MiB)."""


def line_at(text: str, offset: int) -> int:
    """The 1-based line of ``text`` that ``offset`` falls on (lines end at a newline)."""
    return text.count("\n", 0, max(0, offset)) + 1


def read_text(
    path: Path, rel: str | Path, *, what: str = "file", limit: int = MAX_FILE_BYTES
) -> str:
    """Read a user file as UTF-8 text, within ``limit`` bytes.

    Args:
        path: The file.
        rel: How to name it in messages (relative to the workspace).
        what: What the file is, for messages ("dataset", "suite").
        limit: The largest size read, in bytes.

    Returns:
        The text (a leading byte-order mark removed).

    Raises:
        ConfigError: The file cannot be read, is too large or is not UTF-8 (with the
            line of the first bad byte).
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigError(
            f"{rel}: cannot read the {what} ({exc.strerror or exc})",
            "check the path and its permissions",
        ) from exc
    if len(data) > limit:
        raise LimitError(
            f"{rel}: the {what} is larger than {limit // 2**20} MiB",
            "split it into smaller files (see docs/formats.md#limits)",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{location(rel, line)}: not UTF-8 text (byte 0x{data[exc.start]:02x} "
            f"at column {column})",
            f"save the {what} as UTF-8",
        ) from exc
    return text.removeprefix("\ufeff")


_OPENERS = frozenset("[{")


def bracket_depth_error(
    text: str, tokens: re.Pattern[str], where: str, *, first_line: int = 1
) -> ConfigError | None:
    """The error for brackets nested past :data:`MAX_DEPTH`, or None.

    A cheap scan, made before any parser sees the text: it counts ``[`` and ``{``
    outside the strings and comments ``tokens`` matches (each match is a string, a
    comment or one bracket).

    Args:
        text: The text.
        tokens: Matches strings, comments and single brackets of the format.
        where: The file, for the message.
        first_line: The line ``text`` starts at in its file.

    Returns:
        The error to raise, or None when the nesting is within bounds.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for match in tokens.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                line = first_line + line_at(text, match.start()) - 1
                return depth_error(where, line)
        elif token in ("]", "}"):
            depth = max(0, depth - 1)
    return None


def depth_error(where: str, line: int | None) -> LimitError:
    """The error for nesting past :data:`MAX_DEPTH` at ``where:line``."""
    return LimitError(
        f"{location(where, line)}: nested more than {MAX_DEPTH} levels deep",
        "flatten the data (see docs/formats.md#limits)",
    )

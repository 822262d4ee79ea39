"""Plain-text and JSON renderers for headless output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["echo_error", "echo_json", "echo_warning", "render_table"]


def echo_json(data: Any) -> None:
    """Print one JSON document on stdout (and nothing else there)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_error(title: str, hint: str = "") -> None:
    """Print an error (and its hint) on stderr."""
    click.echo(f"error: {title}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)


def echo_warning(message: str) -> None:
    """Print a warning on stderr."""
    click.echo(f"warning: {message}", err=True)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """Render rows as an aligned plain-text table.

    Args:
        headers: Column titles.
        rows: Cell values (converted with ``str``; None shows as ``-``).
        max_width: Longer cells are cut with an ellipsis.

    Returns:
        The table, one line per row, no trailing spaces.
    """

    def cell(value: Any) -> str:
        text = "-" if value is None else str(value).replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    table = [[str(h) for h in headers], *[[cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    return "\n".join(lines)

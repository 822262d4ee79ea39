"""Plain-text and JSON renderers for headless output."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TextIO

import click

from promptdeck.secrecy import install_log_scrubbing, scrub

__all__ = [
    "ScrubbedStream",
    "echo_error",
    "echo_json",
    "echo_warning",
    "render_table",
    "scrubbed_output",
]


class ScrubbedStream(io.TextIOBase):
    """A text stream that passes every write through :func:`promptdeck.secrecy.scrub`.

    Everything the command line prints (results, progress, warnings, errors, and what
    a library prints) goes through one of these: no key reaches the terminal or a
    pipe, whatever built the text.
    """

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        """Write ``text`` without its secrets; return its length as given."""
        if not isinstance(text, str):  # click probes for a binary stream with b""
            return self.inner.write(text)
        self.inner.write(scrub(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.inner.flush()

    def isatty(self) -> bool:
        """Whether the stream underneath is a terminal."""
        return self.inner.isatty()

    def fileno(self) -> int:
        """The file descriptor underneath."""
        return self.inner.fileno()

    def writable(self) -> bool:
        """Always: the stream is for output."""
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The encoding underneath."""
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        """The error handler underneath."""
        return getattr(self.inner, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def scrubbed_output() -> Iterator[None]:
    """Scrub keys from stdout, stderr and every log record while the block runs."""
    install_log_scrubbing()
    saved = sys.stdout, sys.stderr
    sys.stdout = ScrubbedStream(saved[0])
    sys.stderr = ScrubbedStream(saved[1])
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):  # a closed pipe: nothing more to say
                stream.flush()
        sys.stdout, sys.stderr = saved


def echo_json(data: Any) -> None:
    """Print one JSON document on stdout (and nothing else there)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_error(title: str, hint: str = "") -> None:
    """Print an error (and its hint) on stderr."""
    click.echo(f"error: {scrub(title)}", err=True)
    if hint:
        click.echo(f"hint: {scrub(hint)}", err=True)


def echo_warning(message: str) -> None:
    """Print a warning on stderr."""
    click.echo(f"warning: {scrub(message)}", err=True)


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

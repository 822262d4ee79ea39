"""The error hierarchy every layer raises and every front end renders.

Each error carries a one-line ``title`` (what went wrong, naming the file and line
or the thing at fault) and a ``hint`` (what to do about it). Front ends never show
a traceback for these: the CLI prints ``error: <title>`` and ``hint: <hint>`` and
exits with :attr:`PromptdeckError.exit_code`; the TUI shows a notification.

It lives at the package root, below both ``core`` and ``store``, so that every
layer can raise it without importing a layer above itself.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

__all__ = [
    "CheckFailedError",
    "ConfigError",
    "DatabaseUnavailableError",
    "ExitCode",
    "NotFoundError",
    "PromptdeckError",
    "RuntimeFailureError",
    "UsageError",
    "WorkspaceError",
    "location",
]


class ExitCode(IntEnum):
    """Documented process exit codes of the ``promptdeck`` command."""

    OK = 0
    """Success."""
    CHECK_FAILED = 1
    """A check failed: eval failures, regressions, guardrail violations, lint errors."""
    USAGE = 2
    """Usage or configuration error: bad YAML or TOML, unknown prompt, missing variable."""
    RUNTIME = 3
    """Runtime failure: every model call failed, budget exhausted, database unusable."""
    INTERRUPTED = 130
    """Interrupted by the user (Ctrl-C)."""


def location(path: Path | str, line: int | None = None) -> str:
    """Format a file location as ``path:line`` (or just ``path``).

    Args:
        path: The file.
        line: A 1-based line number, if known.

    Returns:
        The location as a user would paste it into an editor.
    """
    return f"{path}:{line}" if line else str(path)


class PromptdeckError(Exception):
    """Base of every error a user can cause or fix.

    Attributes:
        title: One line saying what went wrong.
        hint: One line saying how to fix it (may be empty).
        exit_code: The process exit code a headless run ends with.
    """

    exit_code: ExitCode = ExitCode.RUNTIME

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.title} ({self.hint})" if self.hint else self.title


class UsageError(PromptdeckError):
    """The command was used wrongly (bad option, bad argument)."""

    exit_code = ExitCode.USAGE


class ConfigError(PromptdeckError):
    """A user file (``promptdeck.toml``, a prompt, a suite) is invalid."""

    exit_code = ExitCode.USAGE


class WorkspaceError(PromptdeckError):
    """No workspace was found, or it cannot be created or opened."""

    exit_code = ExitCode.USAGE


class DatabaseUnavailableError(WorkspaceError):
    """The workspace's shared database cannot be used: unreachable, refusing us, missing.

    A user's mistake to fix (a wrong URL or password, a server that is down), so a
    usage error (exit 2); the TUI shows it as a notice and offers to try again.
    """


class NotFoundError(PromptdeckError):
    """A named thing (prompt, version, label, run) does not exist."""

    exit_code = ExitCode.USAGE


class CheckFailedError(PromptdeckError):
    """A check failed: the command ran, but what it checked did not pass."""

    exit_code = ExitCode.CHECK_FAILED


class RuntimeFailureError(PromptdeckError):
    """The work could not be carried out (model calls failed, database unusable)."""

    exit_code = ExitCode.RUNTIME

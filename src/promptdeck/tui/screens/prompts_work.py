"""What the Prompts screen's workers do, in their threads: read, sync, save, act.

Plain functions of the open workspace: they touch no widget (results go back to the
screen through worker state events) and import the engine only when they run, so
the screen that paints first does not load it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.tui.widgets.prompt_detail import DetailSnapshot
from promptdeck.tui.widgets.prompt_list import PromptsSnapshot

if TYPE_CHECKING:
    from sqlmodel import Session

    from promptdeck.core.prompts.sync import SyncReport
    from promptdeck.core.workspace.workspace import Workspace

__all__ = [
    "SaveResult",
    "load_detail",
    "load_prompts",
    "save_prompt",
    "stored_prompts",
    "with_session",
]


@dataclass(frozen=True)
class SaveResult:
    """A finished save."""

    name: str
    digest: str
    report: SyncReport


def stored_prompts(database: Path) -> PromptsSnapshot | None:
    """The list as the database stored it, read before the workspace opens (not synced).

    Returns:
        The stored rows (``report`` None), or None when the database cannot be read
        that way (the screen then waits for the workspace).
    """
    from promptdeck.store.prompt_peek import peek_prompt_list

    peek = peek_prompt_list(database)
    if peek is None:
        return None
    return PromptsSnapshot(None, peek.summaries, peek.contents)


def load_prompts(workspace: Workspace) -> PromptsSnapshot:
    """Sync the prompt files, then read the list and each prompt's latest content."""
    from promptdeck.store.prompts_repo import latest_contents, list_prompt_summaries

    report = workspace.sync()
    with workspace.session() as session:
        summaries = list_prompt_summaries(session)
        contents = latest_contents(session)
    return PromptsSnapshot(report, summaries, contents)


def load_detail(workspace: Workspace, name: str, path: Path) -> DetailSnapshot:
    """Read a prompt's versions, labels and approvals, and its file as it is on disk."""
    from promptdeck.core.prompts.editing import file_digest
    from promptdeck.core.prompts.versions import prompt_detail

    with workspace.session() as session:
        detail = prompt_detail(session, name)
    try:
        text: str | None = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    return DetailSnapshot(name, detail, path, text, file_digest(path) if text else None)


def save_prompt(
    workspace: Workspace, name: str, path: Path, text: str, expected: str | None, *, force: bool
) -> SaveResult:
    """Save the editor's text to the prompt file (unless it changed on disk), then sync."""
    from promptdeck.core.prompts.editing import save_text

    digest = save_text(path, text, expected, force=force)
    return SaveResult(name, digest, workspace.sync())


def with_session(workspace: Workspace, action: Callable[[Session], object]) -> object:
    """Run a registry action (label, approve, revoke, export) in one session."""
    with workspace.session() as session:
        return action(session)

"""What the workbench remembers for its user between sessions: the theme picked.

The state lives in the workspace's git-ignored ``.promptdeck/ui.json`` (machine
state, per user and workspace), never in ``promptdeck.toml``. A theme picked from
the palette wins over ``ui.theme`` in ``promptdeck.toml`` until that setting is
changed: the file records which ``ui.theme`` it was picked over, so an edit of the
configuration is not silently overridden by an older choice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promptdeck.paths import WorkspacePaths

__all__ = ["UI_STATE_FILE", "UiState", "read_ui_state", "remembered_theme", "write_ui_state"]

UI_STATE_FILE = "ui.json"
"""The file in ``.promptdeck/``."""

_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class UiState:
    """The remembered state.

    Attributes:
        theme: The theme picked last (None: none picked).
        over: The ``ui.theme`` of ``promptdeck.toml`` when it was picked.
    """

    theme: str | None = None
    over: str | None = None


def read_ui_state(paths: WorkspacePaths) -> UiState:
    """The remembered state; a missing, oversized or unreadable file remembers nothing."""
    path = paths.state / UI_STATE_FILE
    try:
        if path.stat().st_size > _MAX_BYTES:
            return UiState()
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UiState()
    if not isinstance(data, dict):
        return UiState()
    theme, over = data.get("theme"), data.get("over")
    return UiState(
        theme if isinstance(theme, str) else None, over if isinstance(over, str) else None
    )


def remembered_theme(paths: WorkspacePaths, configured: str | None) -> str | None:
    """The theme picked from the palette, unless ``ui.theme`` changed since (then None)."""
    state = read_ui_state(paths)
    return state.theme if state.theme and state.over == configured else None


def write_ui_state(paths: WorkspacePaths, state: UiState) -> None:
    """Remember ``state`` (atomically; a state folder that cannot be written is ignored)."""
    path = paths.state / UI_STATE_FILE
    tmp = path.with_name(f".{UI_STATE_FILE}.tmp")
    try:
        paths.state.mkdir(exist_ok=True)
        tmp.write_text(json.dumps({"theme": state.theme, "over": state.over}), encoding="utf-8")
        os.replace(tmp, path)  # noqa: PTH105 - atomic replace on the same filesystem
    except OSError:
        tmp.unlink(missing_ok=True)

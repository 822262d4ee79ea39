"""What the workbench reads before its first paint, and what it loads after it.

Before the first frame the app only peeks at ``promptdeck.toml`` (theme, keys, where
the tables live) with ``tomllib``; the validated configuration, the database and
the engine load afterwards, in workers, through the functions here, which import
them only when they run. The other sections' screens are imported when first opened.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from promptdeck.errors import ConfigError
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.tomlload import loads_toml

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from promptdeck.config import WorkspaceConfig
    from promptdeck.core.workspace.warmup import WarmupResult
    from promptdeck.core.workspace.workspace import Workspace
    from promptdeck.paths import WorkspacePaths

__all__ = [
    "DATABASE_URL_ENV",
    "ConfigPeek",
    "lazy_screen",
    "open_workspace",
    "peek_config",
    "warm_up_engine",
]

DATABASE_URL_ENV = "PROMPTDECK_DATABASE_URL"
"""Puts the workspace's tables on a database server: no SQLite file to read early."""


@dataclass(frozen=True)
class ConfigPeek:
    """What the first paint takes from ``promptdeck.toml`` before it is validated.

    Attributes:
        theme: ``ui.theme``, if set.
        keymap: ``[keymap]``: binding id -> keys.
        sqlite: True when the tables live in the workspace's SQLite file (no
            ``database_url``), which the first screen may read before the workspace opens.
    """

    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    sqlite: bool = False


def peek_config(config_file: Path) -> ConfigPeek:
    """Read the theme, the keymap and the database kind from ``promptdeck.toml``, unvalidated.

    The first paint should already wear the user's theme and keys, but the full,
    pydantic-validated configuration loads after it (in the workspace worker); a
    file that does not parse here yields the defaults, and its error is reported
    by that validation.
    """
    try:
        data = loads_toml(read_text(config_file, config_file), config_file)
    except ConfigError:
        return ConfigPeek()
    sqlite = not data.get("database_url") and not os.environ.get(DATABASE_URL_ENV)
    ui = data.get("ui")
    theme = ui.get("theme") if isinstance(ui, dict) else None
    keymap = data.get("keymap")
    keys = (
        {str(k): v for k, v in keymap.items() if isinstance(v, str)}
        if isinstance(keymap, dict)
        else {}
    )
    return ConfigPeek(theme if isinstance(theme, str) else None, keys, sqlite)


def warm_up_engine(config: WorkspaceConfig, root: Path) -> WarmupResult:
    """The real warm-up, imported only when it runs (in its worker)."""
    from promptdeck.core.workspace.warmup import warm_up

    return warm_up(config, root)


def open_workspace(paths: WorkspacePaths) -> Workspace:
    """Open (configuration, migrations) the workspace; runs in a worker after first paint."""
    from promptdeck.core.workspace.workspace import Workspace

    return Workspace.open(paths)


def lazy_screen(module: str, name: str) -> Callable[[], Screen[None]]:
    """A screen factory that imports its module when the screen is first opened.

    Only the first screen's code is imported before the first paint.
    """

    def make() -> Screen[None]:
        screen: type[Screen[None]] = getattr(importlib.import_module(module), name)
        return screen()

    return make

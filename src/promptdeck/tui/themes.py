"""Themes: TOML files a user can copy and edit, from three folders.

Looked up in order (a later file with the same name wins): the bundled ``themes/``,
the user's ``~/.config/promptdeck/themes`` (or ``$PROMPTDECK_HOME/themes``), and the
workspace's ``themes/``. A broken file is reported by name and line and skipped.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from promptdeck.errors import ConfigError, WorkspaceError
from promptdeck.paths import bundled_dir, user_config_dir
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.tomlload import loads_toml

__all__ = ["COLOR_KEYS", "DEFAULT_THEME", "ThemeSet", "load_theme_file", "load_themes"]

DEFAULT_THEME = "promptdeck-dark"
COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


@dataclass
class ThemeSet:
    """The themes found, and one message per file that could not be loaded."""

    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key} ") or line.strip().startswith(f"{key}="):
            return number
    return None


def load_theme_file(path: Path) -> Theme:
    """Read one theme file.

    Raises:
        ValueError: With ``file:line: what is wrong``.
    """
    try:
        text = read_text(path, path, what="theme file")
        data = loads_toml(text, path, what="theme file")
    except ConfigError as exc:
        raise ValueError(exc.title) from exc
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f'{path}:1: a theme needs `name = "..."`')
    colors = data.get("colors", {})
    if not isinstance(colors, dict) or "primary" not in colors:
        raise ValueError(f"{path}: a theme needs a [colors] table with at least `primary`")
    for key, value in colors.items():
        if key not in COLOR_KEYS:
            raise ValueError(
                f"{path}:{_line(text, key) or 1}: colors.{key}: unknown colour name "
                f"(use {', '.join(COLOR_KEYS)})"
            )
        try:
            Color.parse(str(value))
        except ColorParseError:
            raise ValueError(
                f"{path}:{_line(text, key) or 1}: colors.{key}: {value!r} is not a colour"
            ) from None
    values = {k: str(v) for k, v in colors.items()}
    return Theme(
        name=name,
        dark=bool(data.get("dark", True)),
        primary=values["primary"],
        secondary=values.get("secondary"),
        accent=values.get("accent"),
        warning=values.get("warning"),
        error=values.get("error"),
        success=values.get("success"),
        foreground=values.get("foreground"),
        background=values.get("background"),
        surface=values.get("surface"),
        panel=values.get("panel"),
        boost=values.get("boost"),
    )


def theme_folders(workspace: Path | None) -> list[Path]:
    """The folders themes are read from, lowest precedence first."""
    folders = []
    with contextlib.suppress(WorkspaceError):
        folders.append(bundled_dir("themes"))
    folders.append(user_config_dir() / "themes")
    if workspace is not None:
        folders.append(workspace / "themes")
    return folders


def load_themes(workspace: Path | None) -> ThemeSet:
    """Load every theme file; skip (and report) the broken ones."""
    found = ThemeSet()
    by_name: dict[str, Theme] = {}
    for folder in theme_folders(workspace):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as problem:
                found.problems.append(str(problem))
                continue
            by_name[theme.name] = theme
    found.themes = list(by_name.values())
    return found

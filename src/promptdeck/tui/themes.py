"""The workbench's built-in themes."""

from __future__ import annotations

from textual.theme import Theme

__all__ = ["BUILTIN_THEMES", "DEFAULT_THEME"]

DEFAULT_THEME = "promptdeck-dark"

BUILTIN_THEMES = [
    Theme(
        name="promptdeck-dark",
        primary="#7AA2F7",
        secondary="#BB9AF7",
        accent="#E0AF68",
        warning="#E0AF68",
        error="#F7768E",
        success="#9ECE6A",
        foreground="#C0CAF5",
        background="#1A1B26",
        surface="#24283B",
        panel="#2F3549",
        dark=True,
    ),
    Theme(
        name="promptdeck-light",
        primary="#2E5BBA",
        secondary="#7847BD",
        accent="#B15C00",
        warning="#B15C00",
        error="#C4314B",
        success="#3C7A1E",
        foreground="#1F2335",
        background="#F7F7FA",
        surface="#ECEDF3",
        panel="#DCDEE8",
        dark=False,
    ),
]

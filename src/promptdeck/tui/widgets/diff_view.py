"""Render a unified diff as styled text in the theme's colours."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

__all__ = ["render_diff"]


def render_diff(diff: str, palette: Mapping[str, str]) -> Text:
    """Colour a unified diff: additions, removals, hunk headers, file headers.

    Args:
        diff: The unified diff.
        palette: Theme variables (``App.theme_variables``).

    Returns:
        Styled text.
    """
    styles = {
        "+++": "bold",
        "---": "bold",
        "@@": palette.get("accent", "cyan"),
        "+": palette.get("success", "green"),
        "-": palette.get("error", "red"),
    }
    text = Text()
    for line in diff.splitlines():
        style = ""
        for prefix in ("+++", "---", "@@", "+", "-"):
            if line.startswith(prefix):
                style = styles[prefix]
                break
        text.append(line + "\n", style=style)
    text.rstrip()
    return text

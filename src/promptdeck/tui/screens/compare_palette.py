"""The Compare screen's command palette: its actions, offered only where they apply.

Run once a prompt is picked; the column commands once a compare has made columns,
each only when it would do something (no "next column" on the last one, no
"show all" when nothing is hidden, rating only on a finished answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from promptdeck.tui.screens.base import PaletteCommand
from promptdeck.tui.widgets.compare_column import WIDTHS, ColumnView

__all__ = ["CompareActions", "compare_commands"]


class CompareActions(Protocol):
    """What the palette reads and calls on the Compare screen."""

    @property
    def prompt_picked(self) -> bool:
        """True once a prompt is chosen."""
        ...

    @property
    def views(self) -> list[ColumnView]:
        """Every column of the current compare."""
        ...

    @property
    def hidden(self) -> set[int]:
        """The indexes of the hidden columns."""
        ...

    @property
    def diff_on(self) -> bool:
        """True while the word diff is highlighted."""
        ...

    def visible_columns(self) -> list[ColumnView]:
        """The columns not hidden, left to right."""
        ...

    def selected_column(self) -> ColumnView | None:
        """The selected visible column, if any."""
        ...

    def action_callback(self, action: str) -> Callable[[], object]:
        """A callback that runs ``action`` on the screen."""
        ...

    def action_run(self) -> None:
        """Run the compare."""
        ...

    def action_rate(self) -> None:
        """Rate the selected column."""
        ...


def compare_commands(screen: CompareActions) -> Iterable[PaletteCommand]:
    """The Compare screen's commands that make sense now."""
    if screen.prompt_picked:
        yield PaletteCommand(
            "Run compare",
            "Send the prompt to every model, versions × models (ctrl+r)",
            screen.action_run,
        )
    visible = screen.visible_columns() if screen.views else []
    view = screen.selected_column() if visible else None
    if view is None:
        return
    yield from _column_commands(screen, visible, view)
    yield PaletteCommand(
        "Column parameters…",
        f"Set {view.title}'s own temperature, max_tokens, top_p, seed or system prompt (p)",
        screen.action_callback("params"),
    )
    if view.result is not None:
        yield PaletteCommand(
            "Rate column 👍",
            f"Store a thumbs up on {view.title}",
            screen.action_callback("thumbs(1)"),
        )
        yield PaletteCommand(
            "Rate column 👎",
            f"Store a thumbs down on {view.title}",
            screen.action_callback("thumbs(-1)"),
        )
        yield PaletteCommand(
            "Rate column…", f"Rate {view.title} 1–5 with a comment", screen.action_rate
        )


def _column_commands(
    screen: CompareActions, visible: list[ColumnView], view: ColumnView
) -> Iterable[PaletteCommand]:
    here = visible.index(view)
    first, last = here == 0, here == len(visible) - 1
    several = len(visible) > 1
    commands = [
        (not first, "Previous column", "Select the column to the left", "select(-1)"),
        (not last, "Next column", "Select the column to the right", "select(1)"),
        (not first, "Move column left", f"Move {view.title} one place left", "move(-1)"),
        (not last, "Move column right", f"Move {view.title} one place right", "move(1)"),
        (several, "Hide column", f"Hide {view.title}", "hide"),
        (bool(screen.hidden), "Show all columns", "Show the hidden columns again", "show_all"),
        (view.width_step < WIDTHS[-1], "Widen column", f"Make {view.title} wider", "widen(1)"),
        (view.width_step > WIDTHS[0], "Narrow column", f"Make {view.title} narrower", "widen(-1)"),
        (
            several,
            "Hide word differences" if screen.diff_on else "Show word differences",
            "Highlight what differs between the selected column and the next",
            "diff",
        ),
        (
            view.is_ensemble and view.result is not None,
            "Fold or unfold members",
            "Show or hide the ensemble's member answers",
            "members",
        ),
    ]
    for applies, title, help_text, action in commands:
        if applies:
            yield PaletteCommand(title, help_text, screen.action_callback(action))

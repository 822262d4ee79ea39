"""The prompt file changed on disk under unsaved edits: keep mine, take theirs, or diff."""

from __future__ import annotations

import difflib
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from promptdeck.tui.widgets.diff_view import render_diff

__all__ = ["Choice", "ConflictDialog"]

Choice = Literal["mine", "theirs"]


class ConflictDialog(ModalScreen[Choice | None]):
    """Ask what to do with a file that changed on disk while the editor held edits.

    ``k`` keeps the editor's text (the next ctrl+s overwrites the file), ``t`` takes
    the file as it is on disk (the edits are dropped), ``d`` shows the diff from the
    file on disk to the editor's text; Escape decides later (the edits stay).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "choose('mine')", "Keep mine", id="conflict.keep_mine"),
        Binding("t", "choose('theirs')", "Take theirs", id="conflict.take_theirs"),
        Binding("d", "diff", "Show diff", id="conflict.diff"),
        Binding("escape", "later", "Decide later", id="conflict.later"),
    ]

    def __init__(self, file: str, mine: str, theirs: str) -> None:
        super().__init__()
        self._file = file
        self._mine = mine
        self._theirs = theirs

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict-dialog"):
            yield Label(
                f"{self._file} changed on disk while the editor holds unsaved edits.",
                id="conflict-title",
            )
            with VerticalScroll(id="conflict-diff-scroll"):
                yield Static("", id="conflict-diff")
            with Horizontal(id="conflict-buttons"):
                yield Button("Keep mine (k)", id="conflict-mine", variant="primary")
                yield Button("Take theirs (t)", id="conflict-theirs")
                yield Button("Show diff (d)", id="conflict-show-diff")

    def on_mount(self) -> None:
        self.query_one("#conflict-diff-scroll").display = False

    def diff_text(self) -> str:
        """The unified diff from the file on disk (theirs) to the editor (mine)."""
        return "".join(
            difflib.unified_diff(
                self._theirs.splitlines(keepends=True),
                self._mine.splitlines(keepends=True),
                fromfile=f"{self._file} (on disk)",
                tofile=f"{self._file} (editor)",
            )
        )

    def action_diff(self) -> None:
        """Show the diff from the file on disk to the editor's text."""
        diff = self.diff_text()
        self.query_one("#conflict-diff", Static).update(
            render_diff(diff, self.app.theme_variables) if diff else "No difference."
        )
        self.query_one("#conflict-diff-scroll").display = True

    def action_choose(self, choice: Choice) -> None:
        """Keep the editor's text, or take the file's."""
        self.dismiss(choice)

    def action_later(self) -> None:
        """Close; the edits stay and saving asks again."""
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "conflict-show-diff":
            self.action_diff()
        else:
            self.dismiss("mine" if event.button.id == "conflict-mine" else "theirs")

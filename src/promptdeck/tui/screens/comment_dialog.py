"""A one-line dialog asking for a comment."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

__all__ = ["CommentDialog"]


class CommentDialog(ModalScreen[str | None]):
    """Ask for a comment; Enter saves, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="comment.cancel")
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="comment-dialog"):
            yield Label("Comment on this result (Enter saves, Esc cancels)")
            yield Input(placeholder="what is right or wrong with it", id="comment-text")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)

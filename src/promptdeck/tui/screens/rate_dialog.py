"""A small dialog rating an answer: 1–5 and a comment."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

__all__ = ["RateDialog", "RateRequest"]


@dataclass(frozen=True)
class RateRequest:
    """A rating to store: thumbs (±1), stars (1–5) and a comment, each optional."""

    thumbs: int | None = None
    rating: int | None = None
    comment: str | None = None

    @property
    def label(self) -> str:
        """How the rating reads in a column's footer."""
        parts = []
        if self.thumbs is not None:
            parts.append("👍" if self.thumbs > 0 else "👎")
        if self.rating is not None:
            parts.append(f"{self.rating}/5")
        if self.comment:
            parts.append(f"“{self.comment[:30]}”")
        return " ".join(parts) or "-"


class RateDialog(ModalScreen[RateRequest | None]):
    """Ask for a 1–5 rating and an optional comment."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="rate-dialog"):
            yield Label(f"Rate {self.title_text}", id="rate-dialog-title")
            yield Input(placeholder="rating 1–5", id="rate-stars", restrict=r"[1-5]?")
            yield Input(placeholder="comment (optional)", id="rate-comment")
            with Horizontal(id="rate-dialog-buttons"):
                yield Button("Save", variant="primary", id="rate-ok")
                yield Button("Cancel", id="rate-cancel")

    @on(Button.Pressed, "#rate-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        stars = self.query_one("#rate-stars", Input).value.strip()
        comment = self.query_one("#rate-comment", Input).value.strip() or None
        if not stars and not comment:
            self.notify("Give a rating (1–5) or a comment", severity="warning")
            return
        self.dismiss(RateRequest(rating=int(stars) if stars else None, comment=comment))

    @on(Button.Pressed, "#rate-cancel")
    def action_cancel(self) -> None:
        """Close without storing anything."""
        self.dismiss(None)

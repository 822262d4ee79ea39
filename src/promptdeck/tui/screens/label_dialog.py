"""A small dialog asking for a label name and a note."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

__all__ = ["LabelDialog", "LabelRequest"]


@dataclass(frozen=True)
class LabelRequest:
    """What the user asked for."""

    ref: str
    label: str
    note: str | None


class LabelDialog(ModalScreen[LabelRequest | None]):
    """Point a label at a version: asks for the label and an optional note."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, ref: str, default_label: str = "production") -> None:
        super().__init__()
        self.ref = ref
        self.default_label = default_label

    def compose(self) -> ComposeResult:
        with Vertical(id="label-dialog"):
            yield Label(f"Point a label at {self.ref}", id="label-dialog-title")
            yield Input(
                self.default_label, placeholder="label (production, staging…)", id="label-name"
            )
            yield Input(placeholder="note: why (optional)", id="label-note")
            with Horizontal(id="label-dialog-buttons"):
                yield Button("Move label", variant="primary", id="label-ok")
                yield Button("Cancel", id="label-cancel")

    @on(Button.Pressed, "#label-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        label = self.query_one("#label-name", Input).value.strip()
        if not label:
            self.notify("Give the label a name", severity="warning")
            return
        note = self.query_one("#label-note", Input).value.strip() or None
        self.dismiss(LabelRequest(self.ref, label, note))

    @on(Button.Pressed, "#label-cancel")
    def action_cancel(self) -> None:
        """Close without moving anything."""
        self.dismiss(None)

"""A dialog asking for a new prompt's name and what it starts from."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

__all__ = ["NewPromptDialog", "NewPromptRequest"]


@dataclass(frozen=True)
class NewPromptRequest:
    """The new prompt's name, and the prompt it copies (None: the starter template)."""

    name: str
    copy_of: str | None = None


class NewPromptDialog(ModalScreen[NewPromptRequest | None]):
    """Ask for a name and a start: the starter template or a copy of the current prompt."""

    DEFAULT_CSS = """
    NewPromptDialog { align: center middle; }
    #new-prompt-dialog {
        width: 64; max-width: 100%; height: auto; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    #new-prompt-buttons { height: auto; align-horizontal: right; }
    #new-prompt-buttons Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", priority=True)]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        options = [("the starter template", "")]
        if self.current:
            options.insert(0, (f"a copy of {self.current}", self.current))
        with Vertical(id="new-prompt-dialog"):
            yield Label("New prompt: its name (a file prompts/NAME.prompt.yaml)")
            yield Input(placeholder="name, e.g. summarize-short", id="new-prompt-name")
            yield Select(options, value=options[0][1], allow_blank=False, id="new-prompt-from")
            with Horizontal(id="new-prompt-buttons"):
                yield Button("Create", variant="primary", id="new-prompt-ok")
                yield Button("Cancel", id="new-prompt-cancel")

    @on(Button.Pressed, "#new-prompt-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#new-prompt-name", Input).value.strip()
        if not name:
            self.notify("Type the new prompt's name", severity="warning")
            return
        start = self.query_one("#new-prompt-from", Select).value
        self.dismiss(NewPromptRequest(name, start if isinstance(start, str) and start else None))

    @on(Button.Pressed, "#new-prompt-cancel")
    def action_cancel(self) -> None:
        """Close and create nothing."""
        self.dismiss(None)

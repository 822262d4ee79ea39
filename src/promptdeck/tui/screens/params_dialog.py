"""A dialog setting one compare column's own parameters and system prompt."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from promptdeck.core.compare.overrides import OVERRIDE_FIELDS, ColumnOverride, parse_override
from promptdeck.errors import PromptdeckError

__all__ = ["ParamsDialog"]


class ParamsDialog(ModalScreen[ColumnOverride | None]):
    """Ask for a column's temperature, max_tokens, top_p, seed and system prompt.

    Blank fields keep the prompt's own values; ctrl+s (or Save) applies, Escape
    cancels. A value of the wrong type is said under the fields and nothing closes.
    """

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", priority=True),
        Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True),
    ]

    def __init__(self, title: str, current: ColumnOverride | None) -> None:
        super().__init__()
        self.title_text = title
        self.current = current or ColumnOverride()

    def compose(self) -> ComposeResult:
        with Vertical(id="params-dialog"):
            yield Label(f"Parameters of {self.title_text}", id="params-dialog-title")
            with Horizontal(id="params-fields"):
                for name in OVERRIDE_FIELDS:
                    value = self.current.params.get(name)
                    yield Input(
                        "" if value is None else str(value),
                        placeholder=name,
                        id=f"param-{name}",
                        classes="param-field",
                    )
            yield Label("system prompt (blank: the prompt's own)")
            yield TextArea(self.current.system or "", id="param-system", soft_wrap=True)
            yield Static("", id="params-error")
            with Horizontal(id="params-dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="params-ok")
                yield Button("Clear", id="params-clear")
                yield Button("Cancel", id="params-cancel")

    def on_mount(self) -> None:
        self.query_one(f"#param-{OVERRIDE_FIELDS[0]}", Input).focus()

    @on(Button.Pressed, "#params-ok")
    @on(Input.Submitted)
    def action_save(self) -> None:
        """Apply the fields to the column (an empty override clears it)."""
        fields = {name: self.query_one(f"#param-{name}", Input).value for name in OVERRIDE_FIELDS}
        system = self.query_one("#param-system", TextArea).text
        try:
            override = parse_override(fields, system)
        except PromptdeckError as exc:
            self.query_one("#params-error", Static).update(f"{exc.title} — {exc.hint}")
            return
        self.dismiss(override)

    @on(Button.Pressed, "#params-clear")
    def _clear(self) -> None:
        self.dismiss(ColumnOverride())

    @on(Button.Pressed, "#params-cancel")
    def action_cancel(self) -> None:
        """Close and change nothing."""
        self.dismiss(None)

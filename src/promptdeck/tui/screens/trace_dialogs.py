"""Dialogs of the Traces screen: save a trace as a suite case; its similar traces."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from promptdeck.core.similar.index import SimilarTrace

__all__ = ["CaseRequest", "SimilarTracesDialog", "ToCaseDialog"]

CaseRequest = tuple[str, str | None]
"""(suite name, prompt for a new suite or None)."""


class ToCaseDialog(ModalScreen[CaseRequest | None]):
    """Ask which suite a trace's case goes to (and the prompt of a new suite)."""

    DEFAULT_CSS = """
    ToCaseDialog { align: center middle; }
    #to-case-dialog { width: 64; height: auto; border: round $accent; padding: 1 2;
                      background: $surface; }
    #to-case-dialog Input { margin-bottom: 1; }
    #to-case-buttons { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, trace_uid: str, prompt: str | None) -> None:
        super().__init__()
        self.trace_uid = trace_uid
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="to-case-dialog"):
            yield Label(f"Save trace {self.trace_uid[:12]} as a suite case")
            yield Input(placeholder="suite name (suites/NAME.suite.yaml)", id="to-case-suite")
            yield Input(
                self.prompt or "",
                placeholder="prompt a new suite runs (optional)",
                id="to-case-prompt",
            )
            with Horizontal(id="to-case-buttons"):
                yield Button("Save case", variant="primary", id="to-case-ok")
                yield Button("Cancel", id="to-case-cancel")

    @on(Button.Pressed, "#to-case-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        suite = self.query_one("#to-case-suite", Input).value.strip()
        if not suite:
            self.notify("Name the suite", severity="warning")
            return
        prompt = self.query_one("#to-case-prompt", Input).value.strip() or None
        self.dismiss((suite, prompt))

    @on(Button.Pressed, "#to-case-cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)


class SimilarTracesDialog(ModalScreen[str | None]):
    """The traces nearest to one trace; choosing one returns its uid."""

    DEFAULT_CSS = """
    SimilarTracesDialog { align: center middle; }
    #similar-dialog { width: 100; max-width: 95%; height: auto; max-height: 80%;
                      border: round $accent; padding: 1 2; background: $surface; }
    #similar-list { height: auto; max-height: 24; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="dialog.cancel")
    ]

    def __init__(self, trace_uid: str, found: list[SimilarTrace]) -> None:
        super().__init__()
        self.trace_uid = trace_uid
        self.found = found

    def compose(self) -> ComposeResult:
        with Vertical(id="similar-dialog"):
            yield Label(f"Traces like {self.trace_uid[:12]} (prompt and answer), nearest first")
            yield OptionList(
                *[
                    Option(
                        f"{s.similarity:.3f}  {s.trace.started_at:%m-%d %H:%M}  "
                        f"{s.trace.name[:40]}  {s.trace.model or '-'}  [{s.trace.source}]",
                        id=s.trace.uid,
                    )
                    for s in self.found
                ]
                or [Option("No other trace to compare with yet.", disabled=True)],
                id="similar-list",
            )

    @on(OptionList.OptionSelected, "#similar-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close."""
        self.dismiss(None)

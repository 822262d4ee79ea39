"""The frame every workbench screen shares: header, body, status bar, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from promptdeck.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from promptdeck.tui.app import PromptdeckApp

__all__ = ["WorkbenchScreen"]


class WorkbenchScreen(Screen[None]):
    """A screen with the shared header, status bar and footer around its body."""

    @property
    def workbench(self) -> PromptdeckApp:
        """The app, typed."""
        return cast("PromptdeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield StatusBar(self.workbench.workspace_name, self.workbench.model_name)
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """Yield the screen's own widgets."""
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report this screen's failed workers as notifications (the events do not bubble)."""
        if event.state == WorkerState.ERROR:
            self.workbench.report_worker_error(event.worker)

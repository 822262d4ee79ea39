"""The frame every workbench screen shares: header, body, status bar, footer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from promptdeck.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from promptdeck.tui.app import PromptdeckApp

__all__ = ["PaletteCommand", "WorkbenchScreen"]


@dataclass(frozen=True)
class PaletteCommand:
    """One of a screen's actions, as the command palette offers it."""

    title: str
    help: str
    callback: Callable[[], object]


class WorkbenchScreen(Screen[None]):
    """A screen with the shared header, status bar and footer around its body."""

    @property
    def workbench(self) -> PromptdeckApp:
        """The app, typed."""
        return cast("PromptdeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield StatusBar(self.workbench.workspace_name)
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """Yield the screen's own widgets."""
        yield from ()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """The screen's actions that make sense now, for the command palette.

        By default, one command per binding with a description whose action
        :meth:`check_action` allows; screens override this to word the commands
        better or to hide what does not apply to the current selection.
        """
        for binding in self._bindings_for_palette():
            name, params = parse(binding.action)[1:]
            if self.check_action(name, params) is not True:
                continue
            method = getattr(self, f"action_{name}", None)
            doc = (method.__doc__ or "").strip().splitlines() if method else []
            key = self.app.get_key_display(binding)
            summary = doc[0].replace("``", "").rstrip(".") if doc else binding.description
            yield PaletteCommand(
                binding.description, f"{summary} (key {key})", self.action_callback(binding.action)
            )

    def _bindings_for_palette(self) -> list[Binding]:
        seen: set[str] = set()
        found: list[Binding] = []
        for item in self.BINDINGS:
            if isinstance(item, Binding) and item.description and item.action not in seen:
                seen.add(item.action)
                found.append(item)
        return found

    def action_callback(self, action: str) -> Callable[[], object]:
        """A palette callback that runs ``action`` (e.g. ``"select(1)"``) on this screen."""
        return partial(self.run_action, action)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report this screen's failed workers as notifications (the events do not bubble)."""
        if event.state == WorkerState.ERROR:
            self.workbench.report_worker_error(event.worker)

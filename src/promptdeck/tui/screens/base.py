"""The frame every workbench screen shares: header, body, status bar, footer.

A screen reaches the app only through :class:`Workbench`, the part of the app a
screen needs (the app implements it), so no screen module imports the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from textual._context import NoActiveAppError
from textual.actions import SkipAction, parse
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input, TextArea
from textual.worker import Worker, WorkerState

from promptdeck.tui.widgets.fitting_footer import FittingFooter
from promptdeck.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from pathlib import Path

    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["PaletteCommand", "Workbench", "WorkbenchScreen", "is_text_field"]


def is_text_field(widget: Widget | None) -> bool:
    """True for a widget that takes typed characters (an input or an editable text area)."""
    return isinstance(widget, Input) or (isinstance(widget, TextArea) and not widget.read_only)


class Workbench(Protocol):
    """What a screen needs from the app (``PromptdeckApp`` implements it)."""

    @property
    def workspace(self) -> Workspace:
        """The open workspace (check :attr:`workspace_ready` first)."""
        ...

    @property
    def workspace_ready(self) -> bool:
        """True once the workspace is open."""
        ...

    @property
    def workspace_name(self) -> str:
        """The workspace folder's name."""
        ...

    @property
    def stored_database(self) -> Path | None:
        """The SQLite file to read the stored prompt list from before the workspace opens."""
        ...

    @property
    def watch_files(self) -> bool:
        """Whether screens resync prompts when their files change."""
        ...

    def take_target(self, mode: str) -> object | None:
        """The item the command line asked this section to open at (once; then None)."""
        ...

    def first_list_shown(self) -> None:
        """Tell the app the first list is on screen (it warms the engine up then)."""
        ...

    def retry_opening(self) -> bool:
        """Try opening the workspace again after its database was unreachable.

        Returns:
            True when a new attempt started (False when the workspace is open or opening).
        """
        ...

    def report_worker_error(self, worker: Worker[object]) -> None:
        """Turn a failed worker into a notification."""
        ...


@dataclass(frozen=True)
class PaletteCommand:
    """One of a screen's actions, as the command palette offers it."""

    title: str
    help: str
    callback: Callable[[], object]


class WorkbenchScreen(Screen[None]):
    """A screen with the shared header, status bar and footer around its body.

    Escape always leaves a text field for the screen's home widget (``HOME``, else
    ``AUTO_FOCUS``): the binding has priority, so an input cannot swallow it, and it
    steps aside (``SkipAction``) when no text field has focus, for the screen's own
    Escape.
    """

    FOOTER_SPARE: ClassVar[tuple[str, ...]] = ()
    """Actions whose keys leave the footer when it has no room, the first first (they
    stay in F1 and the command palette)."""

    HOME: ClassVar[str | None] = None
    """Where focus goes when it leaves a text field (a selector; default AUTO_FOCUS)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave_field",
            "Leave the text field",
            id="screen.leave_field",
            show=False,
            priority=True,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._take_current_styles()

    def _take_current_styles(self) -> None:
        """Mark this new screen's styles as current when nothing is left to refresh.

        Textual gives a new screen a stale style count (-1); once the app's theme has
        been set, opening the screen then reparses the whole stylesheet twice and
        restyles every widget of every open screen (most of the 0.4 s of CPU that
        opening Compare took, ~35 ms of the first paint). The screen's widgets take
        their styles from the stylesheet as they mount, so there is nothing to
        refresh when the current screen's styles are up to date; for the app's first
        screen, the refresh that setting the theme scheduled restyles it anyway.
        Relies on textual's private ``_css_update_count`` (textual is pinned exactly;
        tests/tui/test_startup_speed.py holds the behaviour).
        """
        try:
            app = self.app
            current = app.screen
        except (NoActiveAppError, ScreenStackError):
            return
        first = not isinstance(current, WorkbenchScreen)
        if first or current._css_update_count == app._css_update_count:
            self._css_update_count = app._css_update_count

    @property
    def workbench(self) -> Workbench:
        """The app, as far as a screen uses it."""
        return cast("Workbench", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield StatusBar(self.workbench.workspace_name)
        yield FittingFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        """Yield the screen's own widgets."""
        yield from ()

    def action_leave_field(self) -> None:
        """Leave the text field that has focus, for the screen's home widget.

        Raises:
            SkipAction: No text field has focus (the key goes on to other bindings).
        """
        if not is_text_field(self.focused):
            raise SkipAction()
        self.focus_home()

    def focus_home(self) -> None:
        """Focus the screen's home widget (``HOME``, else ``AUTO_FOCUS``), else nothing."""
        selector = self.HOME or self.AUTO_FOCUS
        home = self.query(selector).first() if selector else None
        if home is not None and home.focusable and not is_text_field(home):
            home.focus()
        else:
            self.set_focus(None)

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

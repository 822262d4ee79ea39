"""The promptdeck workbench: a Textual app over one workspace."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from promptdeck.config import WorkspaceConfig
from promptdeck.core.warmup import WarmupResult, warm_up
from promptdeck.core.workspace import Workspace
from promptdeck.errors import PromptdeckError
from promptdeck.tui.screens.prompts import PromptsScreen
from promptdeck.tui.themes import DEFAULT_THEME, load_themes
from promptdeck.tui.widgets.status_bar import EngineState

__all__ = ["SECTIONS", "PromptdeckApp", "WarmUp"]

WarmUp = Callable[[WorkspaceConfig, Path], WarmupResult]


def _lazy(module: str, name: str) -> Callable[[], Screen[None]]:
    """A screen factory that imports its module when the screen is first opened.

    Only the first screen's code is imported before the first paint.
    """

    def make() -> Screen[None]:
        screen: type[Screen[None]] = getattr(importlib.import_module(module), name)
        return screen()

    return make


WARMUP_WORKER = "engine-warm-up"

SECTIONS: list[tuple[str, str, str]] = [
    ("prompts", "1", "Prompts"),
    ("compare", "2", "Compare"),
    ("evals", "3", "Evals"),
    ("traces", "4", "Traces"),
    ("guardrails", "5", "Guardrails"),
    ("stats", "6", "Stats"),
]
"""Each section: mode name, key, title."""


class PromptdeckApp(App[None]):
    """The workbench. Screens are modes; the engine warms up in a worker after first paint."""

    CSS_PATH = "app.tcss"
    TITLE = "promptdeck"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "prompts": PromptsScreen,
        "compare": _lazy("promptdeck.tui.screens.compare", "CompareScreen"),
        "evals": _lazy("promptdeck.tui.screens.evals", "EvalsScreen"),
        "traces": _lazy("promptdeck.tui.screens.traces", "TracesScreen"),
        "guardrails": _lazy("promptdeck.tui.screens.guardrails", "GuardrailsScreen"),
        "stats": _lazy("promptdeck.tui.screens.stats", "StatsScreen"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(key, f"switch_mode('{mode}')", title, id=f"screen.{mode}")
            for mode, key, title in SECTIONS
        ],
        Binding("f1", "toggle_help", "Help", id="app.help"),
    ]

    engine_state: reactive[str] = reactive(EngineState.LOADING)
    engine_detail: reactive[str] = reactive("")

    def __init__(
        self,
        workspace: Workspace,
        *,
        screen: str = "prompts",
        warm: WarmUp = warm_up,
        watch_files: bool = True,
    ) -> None:
        """Create the app.

        Args:
            workspace: The open workspace.
            screen: The section to open first.
            warm: Loads the heavy engine (replaced by a fake in tests).
            watch_files: Resync prompts when their files change.
        """
        super().__init__()
        self.workspace = workspace
        self.watch_files = watch_files
        self._initial = screen if screen in self.MODES else "prompts"
        self._warm = warm
        self.sub_title = workspace.paths.root.name

    @property
    def workspace_name(self) -> str:
        """The workspace folder's name."""
        return self.workspace.paths.root.name

    @property
    def model_name(self) -> str:
        """The default model of the workspace."""
        return self.workspace.config.default_model

    def on_mount(self) -> None:
        found = load_themes(self.workspace.paths.root)
        for theme in found.themes:
            self.register_theme(theme)
        for problem in found.problems:
            self.notify(problem, title="Theme file not loaded", severity="warning")
        wanted = self.workspace.config.ui.theme
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.theme = fallback
            self.notify(
                f"promptdeck.toml: ui.theme: unknown theme {wanted!r}; using {fallback}",
                severity="warning",
            )
        if self.workspace.config.keymap:
            self.set_keymap(self.workspace.config.keymap)
        self.switch_mode(self._initial)
        self.call_after_refresh(self.start_warm_up)

    def action_toggle_help(self) -> None:
        """Show or hide the keys and help of the focused panel."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def start_warm_up(self) -> None:
        """Load litellm and the default model in a thread, after the first paint."""
        self.engine_state = EngineState.LOADING
        self.run_worker(
            lambda: self._warm(self.workspace.config, self.workspace.paths.root),
            name=WARMUP_WORKER,
            group="engine",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Apply the warm-up result; report the app's own failed workers."""
        worker = event.worker
        if worker.name == WARMUP_WORKER and event.state == WorkerState.SUCCESS:
            result = worker.result
            if isinstance(result, WarmupResult):
                self.engine_state = EngineState.READY if result.ready else EngineState.FAILED
                self.engine_detail = result.message
        elif event.state == WorkerState.ERROR:
            if worker.name == WARMUP_WORKER:
                self.engine_state = EngineState.FAILED
            self.report_worker_error(worker)

    def report_worker_error(self, worker: Worker[object]) -> None:
        """Turn a failed worker into a notification (never a traceback).

        Worker state events do not bubble, so every screen forwards its failed
        workers here (see ``WorkbenchScreen``).
        """
        error = worker.error
        if isinstance(error, PromptdeckError):
            self.notify(error.hint or " ", title=error.title, severity="error")
        else:
            self.notify(
                f"{type(error).__name__}: {error}",
                title=f"{worker.name} failed",
                severity="error",
            )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Offer navigation and the current screen's actions in the command palette."""
        yield from super().get_system_commands(screen)
        for mode, key, title in SECTIONS:
            if self.current_mode != mode:
                yield SystemCommand(
                    f"Go to {title}", f"Open the {title} screen (key {key})", self._goto(mode)
                )
        if isinstance(screen, PromptsScreen):
            actions = [
                ("Resync prompts", "Read the prompt files into the database now", "resync"),
                ("Edit prompt", "Edit the selected prompt file (ctrl+s saves)", "edit"),
                ("Save prompt file", "Save the editor to the file; a save makes a version", "save"),
                ("Show history", "Versions, labels, approvals and label moves", "history"),
                ("Show diff", "Compare any two versions", "diff"),
                ("Show lint findings", "Problems found in the prompt", "lint"),
                ("Label version…", "Point a label (production, staging…) at a version", "label"),
                ("Approve version", "Approve the selected version", "approve"),
                (
                    "Export production",
                    "Export approved production prompts to the registry",
                    "export",
                ),
            ]
            tabs = {
                "edit": "tab-edit",
                "history": "tab-history",
                "diff": "tab-diff",
                "lint": "tab-lint",
            }
            for title, help_text, action in actions:
                if action in tabs:
                    callback = self._show_tab(screen, tabs[action])
                else:
                    callback = getattr(screen, f"action_{action}")
                yield SystemCommand(title, help_text, callback)

    @staticmethod
    def _show_tab(screen: PromptsScreen, tab: str) -> Callable[[], None]:
        def show() -> None:
            screen.action_show_tab(tab)

        return show

    def _goto(self, mode: str) -> Callable[[], None]:
        def go() -> None:
            self.switch_mode(mode)

        return go

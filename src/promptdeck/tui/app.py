"""The promptdeck workbench: a Textual app over one workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from promptdeck.errors import DatabaseUnavailableError, PromptdeckError
from promptdeck.paths import WorkspacePaths
from promptdeck.secrecy import scrub
from promptdeck.tui.screens.base import Workbench, WorkbenchScreen
from promptdeck.tui.screens.prompts import PromptsScreen
from promptdeck.tui.startup import lazy_screen, open_workspace, peek_config, warm_up_engine
from promptdeck.tui.themes import DEFAULT_THEME, load_themes
from promptdeck.tui.ui_state import UiState, read_ui_state, remembered_theme, write_ui_state
from promptdeck.tui.widgets.status_bar import EngineState

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.theme import Theme

    from promptdeck.config import WorkspaceConfig
    from promptdeck.core.workspace.warmup import WarmupResult
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["OPEN_EARLY", "SECTIONS", "PromptdeckApp", "WarmUp", "WorkspaceState"]

WarmUp = Callable[["WorkspaceConfig", Path], "WarmupResult"]

SCREENS = Binding.Group("screens", compact=True)
"""The footer shows the six screen keys as one short group: ``123456 screens``."""


class WorkspaceState:
    """Where opening the workspace stands (the app's ``workspace_state``)."""

    OPENING = "opening"
    OPEN = "open"
    FAILED = "failed"


WARMUP_WORKER = "engine-warm-up"
WORKSPACE_WORKER = "workspace-open"
WARM_UP_AT_THE_LATEST = 3.0
"""Seconds after the workspace opens when the warm-up starts even if no list said so."""

OPEN_EARLY = frozenset({"prompts", "compare"})
"""Sections that open while the workspace does (they fill in once it is open)."""

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

    CSS_PATH: ClassVar[list[str | PurePath]] = [
        "app.tcss",
        *(f"screens/{name}.tcss" for name in ("compare", "guardrails", "stats", "traces")),
    ]
    """The screens' styles too: a stylesheet read when a screen first opens is reparsed
    whole and every open widget restyled (screens keep their CSS_PATH; it is then a no-op)."""
    TITLE = "promptdeck"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "prompts": PromptsScreen,
        "compare": lazy_screen("promptdeck.tui.screens.compare", "CompareScreen"),
        "evals": lazy_screen("promptdeck.tui.screens.evals", "EvalsScreen"),
        "traces": lazy_screen("promptdeck.tui.screens.traces", "TracesScreen"),
        "guardrails": lazy_screen("promptdeck.tui.screens.guardrails", "GuardrailsScreen"),
        "stats": lazy_screen("promptdeck.tui.screens.stats", "StatsScreen"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "toggle_help", "Help", id="app.help"),
        *[
            Binding(key, f"switch_mode('{mode}')", title, id=f"screen.{mode}", group=SCREENS)
            for mode, key, title in SECTIONS
        ],
    ]

    engine_state: reactive[str] = reactive(EngineState.LOADING)
    engine_detail: reactive[str] = reactive("")
    workspace_state: reactive[str] = reactive(WorkspaceState.OPENING)
    model_name: reactive[str] = reactive("")
    """The default model of the workspace ("" until its configuration is read)."""

    def __init__(
        self,
        workspace: Workspace | WorkspacePaths,
        *,
        screen: str = "prompts",
        warm: WarmUp = warm_up_engine,
        watch_files: bool = True,
        opener: Callable[[WorkspacePaths], Workspace] = open_workspace,
        target: object | None = None,
    ) -> None:
        """Create the app.

        Args:
            workspace: The open workspace, or the paths of one to open in a worker
                after the first paint (what ``promptdeck`` does, so the shell paints
                before SQLAlchemy, pydantic and the migrations load).
            screen: The section to open first.
            warm: Loads the heavy engine (replaced by a fake in tests).
            watch_files: Resync prompts when their files change.
            opener: Opens the workspace from its paths (replaced in tests).
            target: The item the first section opens at (``promptdeck.tui.targets``).
        """
        super().__init__()
        self.paths = workspace if isinstance(workspace, WorkspacePaths) else workspace.paths
        self._workspace = None if isinstance(workspace, WorkspacePaths) else workspace
        self.open_error: PromptdeckError | None = None
        """Why the workspace could not be opened; the app exits with its exit code."""
        self.watch_files = watch_files
        self._initial = screen if screen in self.MODES else "prompts"
        self._targets: dict[str, object] = {} if target is None else {self._initial: target}
        self._pending_mode: str | None = None
        self._warm = warm
        self._opener = opener
        self._warm_started = False
        self._applied_keymap: dict[str, str] = {}
        self._configured_theme: str | None = None
        """``ui.theme`` of promptdeck.toml (a theme picked over it is remembered)."""
        self.stored_database: Path | None = None
        """The SQLite file the first screen reads its stored list from while the workspace
        opens (None: opened already, or its tables live on a server)."""
        self.sub_title = self.paths.root.name

    @property
    def workspace(self) -> Workspace:
        """The open workspace.

        Raises:
            RuntimeError: Before it is open (check :attr:`workspace_ready`).
        """
        if self._workspace is None:
            raise RuntimeError("the workspace is not open yet")
        return self._workspace

    @property
    def workspace_ready(self) -> bool:
        """True once the workspace is open (configuration read, database migrated)."""
        return self._workspace is not None and self.workspace_state == WorkspaceState.OPEN

    @property
    def workspace_name(self) -> str:
        """The workspace folder's name."""
        return self.paths.root.name

    def on_mount(self) -> None:
        found = load_themes(self.paths.root)
        for theme in found.themes:
            self.register_theme(theme)
        for problem in found.problems:
            self.notify(problem, title="Theme file not loaded", severity="warning")
        wanted: str | None
        if self._workspace is not None:
            wanted, keymap = self._workspace.config.ui.theme, self._workspace.config.keymap
        else:
            peek = peek_config(self.paths.config)
            wanted, keymap = peek.theme, peek.keymap
            self.stored_database = self.paths.database if peek.sqlite else None
        self._configured_theme = wanted
        self.theme = self._pick_theme(remembered_theme(self.paths, wanted) or wanted)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._applied_keymap = keymap
        if keymap:
            self.set_keymap(keymap)
        opened = self._workspace is not None
        if self._workspace is not None:
            self._workspace_opened(self._workspace)
        self.switch_mode(self._initial)
        self.call_after_refresh(self.start_warm_up_once if opened else self.start_opening)

    def _remember_theme(self, theme: Theme) -> None:
        """Remember a theme picked (from the palette) over ``ui.theme``, for next time."""
        configured = self._configured_theme
        picked = theme.name if theme.name != self._pick_theme(configured) else None
        state = UiState(picked, configured)
        if state != read_ui_state(self.paths) and (
            picked or remembered_theme(self.paths, configured)
        ):
            write_ui_state(self.paths, state)

    def _pick_theme(self, wanted: str | None) -> str:
        if wanted is not None and wanted in self.available_themes:
            return wanted
        return DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"

    def start_opening(self) -> None:
        """Open the workspace in a thread, after the first paint."""
        self.run_worker(
            lambda: self._opener(self.paths),
            name=WORKSPACE_WORKER,
            group="workspace",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _workspace_opened(self, workspace: Workspace) -> None:
        """Apply the validated configuration and let the screens load."""
        self._workspace = workspace
        config = workspace.config
        self._configured_theme = config.ui.theme
        wanted = remembered_theme(self.paths, config.ui.theme) or config.ui.theme
        if wanted not in self.available_themes:
            self.notify(
                f"promptdeck.toml: ui.theme: unknown theme {wanted!r}; using {self.theme}",
                severity="warning",
            )
        elif wanted != self.theme:
            self.theme = wanted
        if config.keymap != self._applied_keymap:
            self._applied_keymap = config.keymap
            self.set_keymap(config.keymap)
        self.model_name = config.default_model
        self.workspace_state = WorkspaceState.OPEN

    def retry_opening(self) -> bool:
        """Open the workspace again once its database failed to answer (key r, Prompts)."""
        if self.workspace_state != WorkspaceState.FAILED or self.open_error is not None:
            return False
        self.workspace_state = WorkspaceState.OPENING
        self.start_opening()
        return True

    def _workspace_failed(self, error: BaseException | None) -> None:
        """Leave the app (the CLI prints the error), or stay when the database is away.

        A shared database that cannot be reached (a server down, a wrong URL or
        password) is a notice: the app stays open and the Prompts screen offers to try
        again, so a server that comes back needs no restart.
        """
        self.workspace_state = WorkspaceState.FAILED
        if isinstance(error, DatabaseUnavailableError):
            self.notify(error.hint, title=error.title, severity="error", timeout=30)
            return
        if isinstance(error, PromptdeckError):
            self.open_error = error
            self.exit(return_code=int(error.exit_code))
        else:
            from promptdeck.errors import RuntimeFailureError

            self.open_error = RuntimeFailureError(
                f"cannot open the workspace: {type(error).__name__}: {error}",
                "rerun with PROMPTDECK_DEBUG=1 and report the traceback",
            )
            self.exit(return_code=int(self.open_error.exit_code))

    def switch_mode(self, mode: str) -> AwaitMount:
        """Switch to a section; most wait until the workspace is open.

        Prompts and Compare (:data:`OPEN_EARLY`) open at once and fill in when the
        workspace is ready. Another section asked for while the workspace opens
        (the first screen of ``promptdeck eval``, or a key pressed meanwhile) is
        remembered and opens as soon as the workspace is ready; the current
        section (at start, Prompts in its loading state) shows until then.
        """
        if mode not in OPEN_EARLY and not self.workspace_ready:
            self._pending_mode = mode
            if self.current_mode in OPEN_EARLY:
                return AwaitMount(self.screen, [])
            mode = "prompts"
        elif mode in OPEN_EARLY:
            self._pending_mode = None
        return super().switch_mode(mode)

    def refresh_css(self, animate: bool = True) -> None:
        """Refresh the styles, then mark every screen's styles current.

        Textual restyles the whole DOM here (every mode's screens are the app's
        children) but marks only a mounted current screen as done, so the first
        screen, mounted after this first ran, stayed stale, and every later switch
        of section reparsed the stylesheet and restyled every screen (twice for a
        new one). See also ``WorkbenchScreen._take_current_styles``.
        """
        super().refresh_css(animate)
        for stack in self._screen_stacks.values():
            for screen in stack:
                screen._css_update_count = self._css_update_count

    def action_toggle_help(self) -> None:
        """List the current screen's keys: id (for ``[keymap]``), key and what it does."""
        from promptdeck.tui.screens.keys_dialog import KeysDialog, key_rows

        title = next((t for m, _, t in SECTIONS if m == self.current_mode), self.current_mode)
        self.push_screen(KeysDialog(title, key_rows(self, self.screen)))

    def start_warm_up(self) -> None:
        """Load litellm and the default model in a thread, after the first paint."""
        self._warm_started = True
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
        """Apply the workspace and warm-up results; report the app's own failed workers."""
        worker = event.worker
        if worker.name == WORKSPACE_WORKER:
            if event.state == WorkerState.SUCCESS:
                self._workspace_ready_now(worker.result)
            elif event.state == WorkerState.ERROR:
                self._workspace_failed(worker.error)
        elif worker.name == WARMUP_WORKER and event.state == WorkerState.SUCCESS:
            from promptdeck.core.workspace.warmup import WarmupResult

            result = worker.result
            if isinstance(result, WarmupResult):
                self.engine_state = EngineState.READY if result.ready else EngineState.FAILED
                self.engine_detail = result.message
        elif event.state == WorkerState.ERROR:
            if worker.name == WARMUP_WORKER:
                self.engine_state = EngineState.FAILED
            self.report_worker_error(worker)

    def _workspace_ready_now(self, workspace: object) -> None:
        from promptdeck.core.workspace.workspace import Workspace

        if not isinstance(workspace, Workspace):
            self._workspace_failed(TypeError(f"the opener returned {workspace!r}"))
            return
        self._workspace_opened(workspace)
        pending, self._pending_mode = self._pending_mode, None
        if pending is not None:
            self.switch_mode(pending)
        # The warm-up (litellm's import holds the GIL for seconds) waits until the
        # prompt list is on screen (see first_list_shown), or at most a few seconds.
        self.set_timer(WARM_UP_AT_THE_LATEST, self.start_warm_up_once)

    def take_target(self, mode: str) -> object | None:
        """The item the command line asked ``mode`` to open at (handed out once)."""
        return self._targets.pop(mode, None)

    def first_list_shown(self) -> None:
        """Called by the first screen once its list is on screen: warm up the engine now."""
        self.start_warm_up_once()

    def start_warm_up_once(self) -> None:
        """Start the warm-up unless it has started already."""
        if not self._warm_started:
            self.start_warm_up()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notification, scrubbed of keys first (errors quote providers' messages)."""
        super().notify(
            scrub(message), title=scrub(title), severity=severity, timeout=timeout, markup=markup
        )

    def report_worker_error(self, worker: Worker[object]) -> None:
        """Turn a failed worker into a notification (never a traceback).

        Worker state events do not bubble, so every screen forwards its failed
        workers here (see ``WorkbenchScreen``).
        """
        error = worker.error
        if error is not None and not isinstance(error, PromptdeckError):
            from promptdeck.store.db import lock_error

            error = lock_error(error) or error
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
        if isinstance(screen, WorkbenchScreen) and self.workspace_ready:
            for command in screen.palette_commands():
                yield SystemCommand(command.title, command.help, command.callback)

    def _goto(self, mode: str) -> Callable[[], None]:
        def go() -> None:
            self.switch_mode(mode)

        return go


if TYPE_CHECKING:
    # mypy checks here that the app gives screens what they use of it.
    _APP_IS_A_WORKBENCH: type[Workbench] = PromptdeckApp

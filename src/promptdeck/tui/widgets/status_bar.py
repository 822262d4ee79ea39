"""A one-line status bar: the workspace and whether the model is ready."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["EngineState", "StatusBar"]


class EngineState:
    """What the status bar says about the engine (set by the app, read by every bar)."""

    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class StatusBar(Horizontal):
    """Shows the workspace name, the default model (once the workspace is open) and its state."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    StatusBar > Static { width: auto; margin-right: 2; }
    StatusBar > #engine-state.ready { color: $success; }
    StatusBar > #engine-state.failed { color: $error; }
    StatusBar > #engine-state.loading { color: $warning; }
    """

    state: reactive[str] = reactive(EngineState.LOADING)
    detail: reactive[str] = reactive("")

    def __init__(self, workspace: str) -> None:
        super().__init__()
        self._workspace = workspace

    def compose(self) -> ComposeResult:
        yield Static(f"workspace: {self._workspace}", id="workspace-name")
        yield Static("model: …", id="model-name")
        yield Static("", id="engine-state")

    def on_mount(self) -> None:
        self.watch(self.app, "model_name", self._sync_model, init=True)
        self.watch(self.app, "engine_state", self._sync_state, init=True)
        self.watch(self.app, "engine_detail", self._sync_detail, init=True)

    def _sync_model(self, value: str) -> None:
        self.query_one("#model-name", Static).update(f"model: {value or '…'}")

    def _sync_state(self, value: str) -> None:
        self.state = value

    def _sync_detail(self, value: str) -> None:
        self.detail = value

    def _render_state(self) -> None:
        label = self.query_one("#engine-state", Static)
        icon = {"ready": "●", "failed": "✖", "loading": "◌"}.get(self.state, "?")
        text = {"ready": "ready", "failed": "unavailable", "loading": "loading…"}.get(
            self.state, self.state
        )
        label.update(f"{icon} {text}" + (f" ({self.detail})" if self.detail else ""))
        label.set_classes(self.state)

    def watch_state(self) -> None:
        self._render_state()

    def watch_detail(self) -> None:
        self._render_state()

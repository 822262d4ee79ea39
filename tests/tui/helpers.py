"""Helpers for TUI tests: a fake warm-up, and waiting on conditions instead of sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from promptdeck.config import WorkspaceConfig
from promptdeck.core.workspace.warmup import WarmupResult
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.tui.app import PromptdeckApp


class GatedOpener:
    """Opens the workspace only when the test says so, to look at the loading state."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.opened: list[Workspace] = []

    def __call__(self, paths: WorkspacePaths) -> Workspace:
        assert self.gate.wait(10), "the test never opened the gate"
        workspace = Workspace.open(paths)
        self.opened.append(workspace)
        return workspace

    def close(self) -> None:
        for workspace in self.opened:
            workspace.close()


def fake_warm(config: WorkspaceConfig, root: Path) -> WarmupResult:
    """A warm-up that loads nothing and reports the model ready."""
    return WarmupResult(config.default_model, True, "fake model", 0.0)


def failing_warm(config: WorkspaceConfig, root: Path) -> WarmupResult:
    """A warm-up whose model cannot load."""
    return WarmupResult(config.default_model, False, "llama-cpp-python is not installed", 0.0)


def make_app(workspace: Workspace, **kwargs: object) -> PromptdeckApp:
    """The app with a fake warm-up and no file watcher unless asked."""
    options: dict[str, object] = {"warm": fake_warm, "watch_files": False}
    options.update(kwargs)
    return PromptdeckApp(workspace, **options)  # type: ignore[arg-type]


def _busy(app: App[None]) -> bool:
    running = [w for w in app.workers if not w.is_finished and w.group != "prompts-watch"]
    return bool(running) or any(getattr(s, "lint_pending", False) for s in app.screen_stack)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no finite worker runs and no debounced work is pending.

    Exclusive workers replaced by newer ones end cancelled; that is expected.
    """
    for _ in range(400):
        await pilot.pause()
        if not _busy(pilot.app):
            await pilot.pause()
            if not _busy(pilot.app):
                return
        await pilot.pause(0.02)
    raise AssertionError("the app did not settle")


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 10
) -> None:
    """Wait for a condition that depends on something outside the app (a file watcher)."""
    steps = int(seconds / 0.05)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")

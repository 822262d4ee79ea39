"""Helpers for TUI tests: a fake warm-up, and waiting on conditions instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from promptdeck.config import WorkspaceConfig
from promptdeck.core.warmup import WarmupResult
from promptdeck.core.workspace import Workspace
from promptdeck.tui.app import PromptdeckApp


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


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every finite worker (load, warm-up) and the screen refresh after it."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


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

"""Every screen, in the dark and the light theme, at 80×24 and 160×48; and a walk by keyboard.

The snapshots pin what each screen shows on a fresh demo workspace (no runs, no
traces yet) with a fake model; the walk visits every screen with keys alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.app import SECTIONS
from tests.tui.helpers import make_app, settle

THEMES = ["promptdeck-dark", "promptdeck-light"]
SIZES = [(80, 24), (160, 48)]


def _themed(workspace: Workspace, theme: str) -> Workspace:
    workspace.config = workspace.config.model_copy(
        update={"ui": workspace.config.ui.model_copy(update={"theme": theme})}
    )
    return workspace


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(
    ("mode", "key"), [(m, k) for m, k, _ in SECTIONS], ids=[m for m, _, _ in SECTIONS]
)
def test_screen(
    snap_compare: Any, workspace: Workspace, mode: str, key: str, theme: str, size: tuple[int, int]
) -> None:
    """The screen reached by its key: its own content, the status bar and the footer keys."""

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for editor in pilot.app.screen.query("TextArea, Input"):
            editor.cursor_blink = False  # type: ignore[attr-defined]
        await settle(pilot)

    app = make_app(_themed(workspace, theme))
    assert snap_compare(app, terminal_size=size, run_before=go)


async def test_walk_every_screen_by_keyboard(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for mode, key, title in [*SECTIONS[1:], SECTIONS[0]]:
            await pilot.press("escape", key)  # Compare focuses a variable: leave it first
            await settle(pilot)
            assert app.current_mode == mode, title
            # Every screen shows its own keys in the footer and the shared status bar.
            assert app.screen.query("Footer") and app.screen.query("StatusBar")
        await pilot.press("f1")
        await settle(pilot)
        assert app.screen.query("#keys-table")

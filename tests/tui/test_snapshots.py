"""Snapshot tests: each screen of the shell, at a fixed size, with a fake model."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from promptdeck.core.workspace.workspace import Workspace
from tests.tui.helpers import make_app, settle


async def _ready(pilot: Pilot[None]) -> None:
    await settle(pilot)


def test_prompts_screen(snap_compare: Any, workspace: Workspace) -> None:
    """The Prompts screen: the six demo prompts, the first one's YAML beside the list,
    workspace "demo" and a ready model in the status bar, section keys in the footer."""
    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=_ready)


def test_evals_screen(snap_compare: Any, workspace: Workspace) -> None:
    """The Evals screen before any run: the six demo suites with their case counts, the
    filter and search bar, an empty grid, and the grading keys in the footer."""

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("3")
        await pilot.pause()

    assert snap_compare(make_app(workspace), terminal_size=(140, 36), run_before=go)


def test_prompts_screen_at_80x24(snap_compare: Any, workspace: Workspace) -> None:
    """The Prompts screen still shows the list and the footer at 80×24."""
    assert snap_compare(make_app(workspace), terminal_size=(80, 24), run_before=_ready)


def test_prompts_diff_view(snap_compare: Any, workspace: Workspace) -> None:
    """The Diff tab for summarize: v1 against v2, the temperature line removed and added."""
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)
        table = pilot.app.screen.query_one("#prompt-table")
        table.move_cursor(row=4)  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=go)


def test_prompts_editor(snap_compare: Any, workspace: Workspace) -> None:
    """The Edit tab: the prompt file with YAML highlighting and line numbers, lint status below."""

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("e")
        # A blinking cursor would make the picture depend on timing.
        pilot.app.screen.query_one("#editor").cursor_blink = False  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=go)

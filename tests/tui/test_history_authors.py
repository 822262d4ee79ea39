"""The Prompts screen's History tab names who recorded each version, moved and approved."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from promptdeck.core.prompts.approvals import approve_version
from promptdeck.core.prompts.versions import move_label
from promptdeck.core.workspace.workspace import Workspace
from tests.conftest import no_git_identity
from tests.tui.helpers import make_app, settle


@pytest.fixture
def authored(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """summarize v1 by alice, v2 by bob; production moved to v2 by bob, approved by carol."""
    no_git_identity(monkeypatch)
    monkeypatch.setenv("PROMPTDECK_USER", "alice")
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    monkeypatch.setenv("PROMPTDECK_USER", "bob")
    workspace.sync()
    with workspace.session() as session:
        move_label(session, "summarize@2", "production", note="ship it")
    monkeypatch.setenv("PROMPTDECK_USER", "carol")
    with workspace.session() as session:
        approve_version(session, workspace.paths, workspace.config, "summarize@2", note="reviewed")
    return workspace


async def _history(pilot: Pilot[None]) -> None:
    await settle(pilot)
    table = pilot.app.screen.query_one("#prompt-table")
    table.move_cursor(row=4)  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.press("h")
    await settle(pilot)


async def test_the_history_table_has_an_author_column(authored: Workspace) -> None:
    app = make_app(authored)
    async with app.run_test(size=(120, 36)) as pilot:
        await _history(pilot)
        table = app.screen.query_one("#history-table", DataTable)
        assert [str(c.label) for c in table.ordered_columns][:3] == [
            "Version",
            "Created (UTC)",
            "Author",
        ]
        assert [table.get_row_at(i)[:3:2] for i in range(table.row_count)] == [
            ["v2", "bob"],
            ["v1", "alice"],
        ]
        moves = str(app.screen.query_one("#label-moves").render())
        assert "production: (new) → v2  by bob  “ship it”" in moves
        assert "v2 approved  by carol  “reviewed”" in moves


def test_history_snapshot(snap_compare: Any, authored: Workspace) -> None:
    """The History tab of summarize: v2 by bob (production, approved), v1 by alice; below,
    production moved by bob and v2 approved by carol, with their notes (frozen clock)."""
    assert snap_compare(make_app(authored), terminal_size=(120, 36), run_before=_history)

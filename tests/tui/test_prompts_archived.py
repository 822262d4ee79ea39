"""Prompts whose file was deleted sit under an "archived" fold, opened with Enter."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.prompts import PromptsScreen
from promptdeck.tui.widgets.prompt_list import ARCHIVED_KEY
from tests.tui.helpers import make_app, settle


def _keys(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    return [str(k.value) for k in table.rows]


async def test_deleted_prompt_files_are_listed_under_an_archived_fold(
    workspace: Workspace,
) -> None:
    workspace.sync()
    (workspace.paths.prompts / "summarize.prompt.yaml").unlink()
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromptsScreen)
        table = screen.query_one("#prompt-table", DataTable)
        live = ["classify-ticket", "customer-support", "extract-invoice", "math-word-problem"]
        assert _keys(table) == [*live, "truthful-qa", ARCHIVED_KEY]
        assert str(table.get_row_at(5)[0]) == "▸ archived (1)"
        summary = str(screen.query_one("#prompts-summary", Static).render())
        assert summary == "5 prompts · 1 archived"
        await pilot.press(*["down"] * 5, "enter")
        await settle(pilot)
        assert _keys(table) == [*live, "truthful-qa", ARCHIVED_KEY, "summarize"]
        assert str(table.get_row_at(5)[0]) == "▾ archived (1)"
        assert str(table.get_row_at(6)[5]) == "archived"
        assert screen.selected == "truthful-qa"  # the fold row selects no prompt
        await pilot.press("down")
        await settle(pilot)
        assert screen.selected == "summarize"
        assert "The file is gone" in str(screen.query_one("#prompt-error", Static).render())
        await pilot.press("up", "enter")
        await settle(pilot)
        assert _keys(table) == [*live, "truthful-qa", ARCHIVED_KEY]

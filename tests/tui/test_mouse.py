"""The mouse works where Textual supports it: rows, tabs and the footer's keys."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent
from textual.widgets._footer import FooterKey

from promptdeck.core.workspace.workspace import Workspace
from tests.tui.helpers import make_app, settle


async def test_clicking_a_row_a_tab_and_a_footer_key(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#prompt-table", DataTable)
        # Row 5 (summarize) sits on line 5 of the table, under the header.
        assert await pilot.click(table, offset=(2, 5))
        await settle(pilot)
        assert "summarize" in str(app.screen.query_one("#prompt-title", Static).render())

        assert await pilot.click("#--content-tab-tab-history")
        await settle(pilot)
        assert app.screen.query_one("#prompt-tabs", TabbedContent).active == "tab-history"
        history = app.screen.query_one("#history-table", DataTable)
        assert history.row_count == 1

        (compare,) = [key for key in app.screen.query(FooterKey) if key.key == "2"]
        assert await pilot.click(compare)
        await settle(pilot)
        assert app.current_mode == "compare"


async def test_the_mouse_works_at_80x24(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#prompt-table", DataTable)
        assert await pilot.click(table, offset=(2, 2))
        await settle(pilot)
        assert "customer-support" in str(app.screen.query_one("#prompt-title", Static).render())
        assert await pilot.click("#--content-tab-tab-diff")
        await settle(pilot)
        assert app.screen.query_one("#prompt-tabs", TabbedContent).active == "tab-diff"

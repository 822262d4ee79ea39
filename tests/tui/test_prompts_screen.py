"""Pilot tests of the Prompts screen: edit and save, history, diff, lint, label, approve."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent, TextArea

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.conflict_dialog import ConflictDialog
from promptdeck.tui.screens.label_dialog import LabelDialog
from promptdeck.tui.screens.prompts import PromptsScreen
from tests.tui.helpers import make_app, settle


def _row(app: object, name: str) -> list[str]:
    table = app.screen.query_one("#prompt-table", DataTable)  # type: ignore[attr-defined]
    for i in range(table.row_count):
        row = [str(c) for c in table.get_row_at(i)]
        if row[0] == name:
            return row
    raise AssertionError(f"{name} not listed")


async def _select(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    table = pilot.app.screen.query_one("#prompt-table", DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    table.move_cursor(row=names.index(name))
    await settle(pilot)


async def test_edit_in_the_tui_and_see_version_two(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "summarize")
        await pilot.press("e")
        editor = app.screen.query_one("#editor", TextArea)
        assert editor.has_focus and "name: summarize" in editor.text
        editor.text = editor.text.replace("temperature: 0.2", "temperature: 0.6")
        await settle(pilot)
        assert "unsaved changes" in str(app.screen.query_one("#editor-status", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _row(app, "summarize")[1] == "v2"
        assert "temperature: 0.6" in (workspace.paths.prompts / "summarize.prompt.yaml").read_text()
        assert any("version 2" in str(n.message) for n in app._notifications)


async def test_live_lint_reports_an_undeclared_variable(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "summarize")
        editor = app.screen.query_one("#editor", TextArea)
        editor.text = editor.text.replace("{{ text | trim }}", "{{ txt | trim }}")
        await settle(pilot)
        status = str(app.screen.query_one("#editor-status", Static).render())
        assert "1 errors" in status and "txt" in status
        lint = app.screen.query_one("#lint-table", DataTable)
        assert any("txt" in str(lint.get_row_at(i)[2]) for i in range(lint.row_count))


async def test_a_save_never_overwrites_a_change_made_elsewhere(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "summarize")
        path = workspace.paths.prompts / "summarize.prompt.yaml"
        editor = app.screen.query_one("#editor", TextArea)
        editor.text = editor.text.replace("temperature: 0.2", "temperature: 0.6")
        await settle(pilot)
        elsewhere = path.read_text().replace("temperature: 0.2", "temperature: 0.9")
        path.write_text(elsewhere)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert path.read_text() == elsewhere
        assert any("changed on disk" in f"{n.title} {n.message}" for n in app._notifications)
        assert isinstance(app.screen, ConflictDialog)
        await pilot.press("k")  # keep mine: the next save overwrites the file
        await settle(pilot)
        status = str(app.screen.query_one("#editor-status", Static).render())
        assert "the file changed on disk" in status
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "temperature: 0.6" in path.read_text()


async def test_history_diff_label_and_approve(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "summarize")
        await pilot.press("d")
        diff = str(app.screen.query_one("#diff-view", Static).render())
        assert "--- summarize@1" in diff and "+  temperature: 0.4" in diff
        await pilot.press("h")
        assert app.screen.query_one("#prompt-tabs", TabbedContent).active == "tab-history"
        history = app.screen.query_one("#history-table", DataTable)
        assert [str(history.get_row_at(i)[0]) for i in range(history.row_count)] == ["v2", "v1"]
        history.focus()
        history.move_cursor(row=1)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LabelDialog) and app.screen.ref == "summarize@1"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert _row(app, "summarize")[2] == "production→v1"
        await pilot.press("h")
        history = app.screen.query_one("#history-table", DataTable)
        history.focus()
        history.move_cursor(row=1)
        await pilot.press("a")
        await settle(pilot)
        assert _row(app, "summarize")[4] == "v1"  # approved


async def test_palette_offers_the_prompt_actions(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "truthful-qa")
        await pilot.press("ctrl+p")
        await pilot.press(*"Approve version")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert _row(app, "truthful-qa")[4] == "v1"


async def test_an_approval_is_revoked_from_the_palette_and_shown_in_history(
    workspace: Workspace,
) -> None:
    workspace.sync()
    app = make_app(workspace)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await _select(pilot, "truthful-qa")
        screen = app.screen
        assert isinstance(screen, PromptsScreen)
        titles = [c.title for c in screen.palette_commands()]
        assert "Approve version" in titles and "Revoke approval" not in titles
        await pilot.press("a")
        await settle(pilot)
        assert _row(app, "truthful-qa")[4] == "v1"
        assert "Revoke approval" in [c.title for c in screen.palette_commands()]
        await pilot.press("ctrl+p")
        await pilot.press(*"Revoke approval")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert _row(app, "truthful-qa")[4] == "-"
        assert any("approval revoked" in n.message for n in app._notifications)
        await pilot.press("h")
        await settle(pilot)
        moves = str(app.screen.query_one("#label-moves", Static).render())
        assert "Approvals" in moves and "v1 revoked" in moves and "v1 approved" in moves

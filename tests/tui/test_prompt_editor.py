"""The prompt editor, by keys: it keeps its place after a save, reverts, asks when the file
changed on disk under edits, and lints as `prompts lint` does."""

from __future__ import annotations

from textual.keys import _character_to_key
from textual.widgets import DataTable, Static, TextArea

from promptdeck.core.prompts.lint import lint_prompts
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.conflict_dialog import ConflictDialog
from promptdeck.tui.screens.prompts import PromptsScreen
from tests.tui.helpers import make_app, settle


async def _edit(pilot, name: str) -> TextArea:  # type: ignore[no-untyped-def]
    """Select ``name`` with the arrow keys and open its editor with ``e``."""
    await settle(pilot)
    table = pilot.app.screen.query_one("#prompt-table", DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    await pilot.press(*["down"] * names.index(name))
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    editor = pilot.app.screen.query_one("#editor", TextArea)
    assert editor.has_focus
    return editor


def _status(app: object) -> str:
    return str(app.screen.query_one("#editor-status", Static).render())  # type: ignore[attr-defined]


async def test_save_keeps_the_cursor_and_the_scroll(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(100, 18)) as pilot:
        editor = await _edit(pilot, "summarize")
        await pilot.press(*["down"] * 12, "end", "space", "x")
        await settle(pilot)
        place, scroll = editor.cursor_location, editor.scroll_offset.y
        assert place[0] > 5 and scroll > 0 and "unsaved" in _status(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "saved" in _status(app) and "unsaved" not in _status(app)
        assert editor.cursor_location == place and editor.scroll_offset.y == scroll
        assert any("version 2" in str(n.message) for n in app._notifications)


async def test_ctrl_r_reverts_to_the_saved_file(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await _edit(pilot, "summarize")
        saved = editor.text
        await pilot.press("down", "down", "end", "z", "z")
        await settle(pilot)
        assert editor.text != saved
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Revert prompt file" in titles
        row = editor.cursor_location[0]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert editor.text == saved and "unsaved" not in _status(app)
        assert editor.cursor_location[0] == row > 0  # still on the line being edited
        screen = app.screen
        assert isinstance(screen, PromptsScreen) and not screen.has_unsaved_edits


async def test_a_file_changed_under_edits_offers_theirs_mine_or_a_diff(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await _edit(pilot, "summarize")
        await pilot.press("down", "end", "space", "m", "i", "n", "e")
        await settle(pilot)
        theirs = path.read_text().replace("temperature: 0.2", "temperature: 0.9")
        path.write_text(theirs)
        await pilot.press("escape", "r")  # leave the editor, resync
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        await pilot.press("d")
        diff = str(dialog.query_one("#conflict-diff", Static).render())
        assert "-  temperature: 0.9" in diff or "temperature: 0.9" in diff
        assert "mine" in diff
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert editor.text == theirs and "unsaved" not in _status(app)
        # The file changes again while nothing is edited: the editor simply follows it.
        path.write_text(theirs.replace("temperature: 0.9", "temperature: 0.8"))
        await pilot.press("r")
        await settle(pilot)
        assert "temperature: 0.8" in editor.text and isinstance(app.screen, PromptsScreen)


async def test_lint_tab_shows_what_prompts_lint_shows_uncut(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(100, 36)) as pilot:
        await _edit(pilot, "summarize")
        # A secret and an email address typed at the end of the last description.
        await pilot.press("pagedown", "pagedown", "pagedown", "up")
        typed = " key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12345678 bob@example.com"
        await pilot.press("end", *[_character_to_key(c) for c in typed])
        await settle(pilot)
        await pilot.press("escape", "i")
        await settle(pilot)
        text = app.screen.query_one("#editor", TextArea).text
        workspace.sync()
        expected = lint_prompts(
            workspace.paths, workspace.config, ["summarize"], buffers={"summarize": text}
        )["summarize"]
        rules = {f.rule for f in expected}
        assert {"secret", "pii"} <= rules and rules & {"tokens", "context-window"}
        table = app.screen.query_one("#lint-table", DataTable)
        shown = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[2] for row in shown] == [f"{f.message} [{f.rule}]" for f in expected]
        # Uncut: the Finding column fits the pane and long findings wrap onto more lines.
        finding = list(table.columns.values())[2]
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        assert all(c.width >= len(str(c.label)) for c in table.columns.values())  # headers whole
        long = next(i for i, f in enumerate(expected) if len(f.message) > finding.width)
        assert list(table.rows.values())[long].height > 1

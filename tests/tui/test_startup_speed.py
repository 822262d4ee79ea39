"""What keeps the workbench quick to start (the figures live in bench/startup.py).

- The Prompts list shows the rows the database stored while the workspace opens
  (configuration, migrations, SQLAlchemy), says they are not synced yet, and the
  synced list replaces them, naming what the files changed.
- Compare opens at once, even while the workspace opens, and fills in after.
- Neither needs the engine's heavy libraries to get on screen.
- Opening a section does not reparse the stylesheet or restyle every screen.
- Compare's variable fields can be asked for while they are being replaced.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.widgets import DataTable, Input, Static

from promptdeck.core.prompts.files import VariableSpec
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.tui.app import PromptdeckApp
from promptdeck.tui.startup import DATABASE_URL_ENV, ConfigPeek, peek_config
from promptdeck.tui.widgets.compare_setup import SetupRow
from promptdeck.tui.widgets.prompt_list import SYNCING_NOTE
from promptdeck.tui.widgets.variable_editors import VariableEditors
from tests.conftest import DEMO_PROMPTS
from tests.tui.helpers import GatedOpener, fake_warm, make_app, settle, wait_until


def _app(paths: WorkspacePaths, opener: GatedOpener) -> PromptdeckApp:
    return PromptdeckApp(paths, warm=fake_warm, watch_files=False, opener=opener)


def _used_before(paths: WorkspacePaths) -> None:
    """Open and sync the workspace once, as an earlier session of promptdeck did."""
    workspace = Workspace.open(paths)
    workspace.sync()
    workspace.close()


def _table(app: PromptdeckApp) -> DataTable[object]:
    return app.screen.query_one("#prompt-table", DataTable)


def _summary(app: PromptdeckApp) -> str:
    return str(app.screen.query_one("#prompts-summary", Static).render())


def _latest(app: PromptdeckApp, name: str) -> str:
    cell = _table(app).get_row(name)[1]
    return cell.plain if isinstance(cell, Text) else str(cell)


async def test_the_stored_list_shows_while_the_workspace_opens_then_the_sync_updates_it(
    demo_paths: WorkspacePaths,
) -> None:
    _used_before(demo_paths)
    summarize = demo_paths.prompts / "summarize.prompt.yaml"
    summarize.write_text(summarize.read_text().replace("concise", "short"))  # edited since
    opener = GatedOpener()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: _table(app).row_count == len(DEMO_PROMPTS))
            # The database's list, before the workspace opened, marked as not synced.
            assert not app.workspace_ready
            assert not _table(app).loading
            assert SYNCING_NOTE in _summary(app)
            assert _latest(app, "summarize") == "v1"
            title = str(app.screen.query_one("#prompt-title", Static).render())
            assert "classify-ticket" in title  # the first row's stored content shows
            for key in "nla":  # new, label, approve need the workspace: asked to wait
                await pilot.press(key)
            waits = [n for n in app._notifications if "still opening" in str(n.message)]
            assert len(waits) == 3
            assert app.screen.query("#prompt-table")  # no dialog opened
            opener.gate.set()
            await wait_until(pilot, lambda: SYNCING_NOTE not in _summary(app))
            await settle(pilot)
            # The synced list: the edited file's new version, and a word about it.
            assert _summary(app).startswith(f"{len(DEMO_PROMPTS)} prompts")
            assert _latest(app, "summarize") == "v2"
            assert any("summarize v1 → v2" in str(n.message) for n in app._notifications)
    finally:
        opener.close()


async def test_a_synced_list_that_comes_first_is_not_replaced_by_the_stored_one(
    demo_paths: WorkspacePaths,
) -> None:
    _used_before(demo_paths)
    opener = GatedOpener()
    opener.gate.set()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.workspace_ready)
            await settle(pilot)
            assert SYNCING_NOTE not in _summary(app)
            assert not [n for n in app._notifications if "changed" in n.title]
    finally:
        opener.close()


async def test_compare_opens_while_the_workspace_opens_and_fills_in_after(
    demo_paths: WorkspacePaths,
) -> None:
    opener = GatedOpener()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            assert app.current_mode == "compare"
            hint = str(app.screen.query_one("#compare-hint", Static).render())
            assert "ctrl+r run" in hint
            assert "aliases" not in hint  # the configuration is not read yet
            await pilot.press("ctrl+r")  # its keys are live
            assert any("Pick a prompt first" in str(n.message) for n in app._notifications)
            opener.gate.set()
            await wait_until(pilot, lambda: app.workspace_ready)
            await settle(pilot)
            assert app.current_mode == "compare"
            hint = str(app.screen.query_one("#compare-hint", Static).render())
            assert "aliases: smol" in hint
            models = app.screen.query_one("#compare-models", Input)
            assert models.value == "local/smollm2-135m"
            assert app.screen.query_one(SetupRow).offered == DEMO_PROMPTS
    finally:
        opener.close()


async def test_a_model_typed_while_the_workspace_opens_is_kept(
    demo_paths: WorkspacePaths,
) -> None:
    opener = GatedOpener()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("2")
            await pilot.click("#compare-models")
            await pilot.press(*"smol")
            opener.gate.set()
            await wait_until(pilot, lambda: app.workspace_ready)
            await settle(pilot)
            assert app.screen.query_one("#compare-models", Input).value == "smol"
    finally:
        opener.close()


_FIRST_SCREENS = textwrap.dedent(
    """
    import asyncio, sys, threading
    from pathlib import Path
    from promptdeck.paths import WorkspacePaths
    from promptdeck.tui.app import PromptdeckApp

    HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "yaml", "jinja2", "litellm", "numpy",
             "promptdeck.config", "promptdeck.core.gateway", "promptdeck.store.db")
    gate = threading.Event()

    def opener(paths):
        gate.wait(30)
        raise RuntimeError("this test never opens the workspace")

    async def main():
        app = PromptdeckApp(WorkspacePaths(Path(sys.argv[1])), watch_files=False, opener=opener)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one("#prompt-table")
            for _ in range(500):
                await pilot.pause(0.02)
                if table.row_count:
                    break
            await pilot.press("2")
            for _ in range(500):
                await pilot.pause(0.02)
                hint = app.screen.query("#compare-hint")
                if hint and "ctrl+r" in str(hint.first().render()):
                    break
            heavy = [m for m in HEAVY if m in sys.modules]
            print(table.row_count, app.current_mode, app.workspace_state, *heavy)
            gate.set()

    asyncio.run(main())
    """
)


def test_the_stored_list_and_compare_show_without_the_engine(demo_paths: WorkspacePaths) -> None:
    """Listed and Compare open, workspace still opening: no engine library loaded yet."""
    _used_before(demo_paths)
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_SCREENS, str(demo_paths.root)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert out.split() == [str(len(DEMO_PROMPTS)), "compare", "opening"]


async def test_opening_a_section_does_not_reparse_the_stylesheet(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    reparsed: list[str] = []
    reparse = Stylesheet.reparse

    def counted(self: Stylesheet) -> None:
        reparsed.append("reparse")
        reparse(self)

    monkeypatch.setattr(Stylesheet, "reparse", counted)
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        reparsed.clear()
        for key in "2136451":
            await pilot.press(key)
            await settle(pilot)
        assert reparsed == []
        # A theme change still restyles, and a section opened after it wears it.
        app.theme = "textual-light"
        await settle(pilot)
        assert reparsed
        background = app.screen.styles.background
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.styles.background == background


async def test_a_section_opened_after_a_theme_change_wears_the_new_theme(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dark = app.screen.styles.background
        app.theme = "textual-light"
        await settle(pilot)
        light = app.screen.styles.background
        assert light != dark
        await pilot.press("4")  # Traces, never opened before
        await settle(pilot)
        assert app.screen.styles.background == light


async def test_variable_fields_being_replaced_are_not_named_until_mounted() -> None:
    """Compare can resume (and focus a field) while its first prompt's fields mount."""

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield VariableEditors(id="vars")

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        editors = app.query_one(VariableEditors)
        specs = {"ticket": VariableSpec(required=True), "tone": VariableSpec(enum=["a", "b"])}
        replacing = asyncio.ensure_future(editors.ask_for("triage", specs, compact=False))
        seen = []
        while not replacing.done():
            seen.append(editors.first_empty())  # what a resume does meanwhile
            await asyncio.sleep(0)
        await replacing
        await pilot.pause()
        assert seen and seen[0] is None
        assert editors.first_empty() is app.query_one("#var-ticket")
        assert editors.values() == {}


def test_tables_on_a_server_are_not_read_from_a_local_file(
    demo_paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale ``workspace.db`` beside a PostgreSQL workspace must not be listed as its list."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert peek_config(demo_paths.config).sqlite
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://db.example/promptdeck")
    assert not peek_config(demo_paths.config).sqlite
    monkeypatch.delenv(DATABASE_URL_ENV)
    text = demo_paths.config.read_text()
    demo_paths.config.write_text('database_url = "postgresql://db/x"\n' + text)
    assert not peek_config(demo_paths.config).sqlite
    demo_paths.config.write_text("this is = not [toml\n")
    assert peek_config(demo_paths.config) == ConfigPeek()  # validation reports it later

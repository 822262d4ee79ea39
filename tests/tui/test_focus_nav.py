"""Focus and navigation, by keys only: Escape leaves a text field, 1–6 switch screens,
entering a screen focuses something useful, F1 lists the keys, and the command line
opens a screen at an item."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Select, TextArea

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import Run, Trace
from promptdeck.tui.screens.base import is_text_field
from promptdeck.tui.screens.compare import CompareScreen
from promptdeck.tui.screens.keys_dialog import KeysDialog
from promptdeck.tui.screens.prompts import PromptsScreen
from promptdeck.tui.screens.traces import TracesScreen
from promptdeck.tui.targets import CompareTarget, ItemTarget
from promptdeck.tui.widgets.compare_column import ColumnView
from tests.compare_fakes import install_fakes
from tests.helpers import MINI_SUITE
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle, wait_until


async def test_escape_leaves_fields_and_number_keys_switch_screens(workspace: Workspace) -> None:
    fill(workspace)
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        # Entering Compare focuses the first empty variable: typing fills it.
        assert app.focused is app.screen.query_one("#var-ticket", TextArea)
        await pilot.press("4")
        assert app.current_mode == "compare"
        assert app.screen.query_one("#var-ticket", TextArea).text == "4"
        await pilot.press("escape")
        assert not is_text_field(app.focused)
        await pilot.press("4")
        await settle(pilot)
        assert app.current_mode == "traces"
        # Traces: the list has focus; / goes to the filter, Escape comes back to the list.
        assert app.focused is app.screen.query_one("#trace-table", DataTable)
        await pilot.press("slash", "d")
        assert app.screen.query_one("#filter-prompt", Input).value == "d"
        assert app.current_mode == "traces"
        await pilot.press("escape")
        assert app.focused is app.screen.query_one("#trace-table", DataTable)
        await pilot.press("1")
        await settle(pilot)
        assert app.current_mode == "prompts"
        # The prompt editor: Escape leaves it for the list.
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#editor").focus()
        await pilot.press("escape", "3")
        await settle(pilot)
        assert app.current_mode == "evals"


async def test_enter_in_the_traces_filter_applies_it_and_goes_back_to_the_list(
    workspace: Workspace,
) -> None:
    fill(workspace)
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#trace-table", DataTable)
        every = table.row_count
        await pilot.press("slash", *"MMAR", "enter")  # a piece of "summarize", any case
        await settle(pilot)
        assert app.focused is table  # not left in the filter while the list reloaded
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert 0 < len(names) < every and all(n.startswith("summarize") for n in names)
        await pilot.press("down", "1")  # keys reach the list and the app, not the filter
        await settle(pilot)
        assert app.current_mode == "prompts"


async def test_escape_in_a_select_still_closes_it(workspace: Workspace) -> None:
    app = make_app(workspace, screen="traces")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#filter-status", Select).focus()
        await pilot.press("enter")
        select_ = app.screen.query_one("#filter-status", Select)
        assert select_.expanded
        await pilot.press("escape")
        assert not select_.expanded and app.current_mode == "traces"


async def test_f1_lists_the_screens_keys_with_their_ids(workspace: Workspace) -> None:
    workspace.config = workspace.config.model_copy(update={"keymap": {"compare.run": "f5"}})
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("escape", "f1")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, KeysDialog)
        table = dialog.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert rows["compare.run"][1:] == ["f5", "Run"]
        assert rows["compare.move_left"][2] == "Move left"  # hidden from the footer, listed here
        assert rows["screen.compare"][1] == "2"
        assert "prompts.save" not in rows  # only the current screen's keys
        ids = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert ids.index("compare.run") < ids.index("-")  # ours first, Textual's after
        hint = str(dialog.query_one("#keys-hint").render())
        assert '[keymap] "<id>" = "<key>"' in hint
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)


async def test_compare_target_fills_the_fields_and_runs(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_fakes(monkeypatch, {"fake/alpha": "short", "fake/beta": "longer"})
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    target = CompareTarget(
        ("summarize@1", "summarize@2"),
        ("fake/alpha", "fake/beta"),
        {"text": "The board met."},
        {"seed": 7},
    )
    app = make_app(workspace, screen="compare", target=target)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.query_one("#compare-prompt", Select).value == "summarize"
        assert screen.query_one("#compare-versions", Input).value == "1, 2"
        assert screen.query_one("#compare-models", Input).value == "fake/alpha, fake/beta"
        assert screen.query_one("#var-text", TextArea).text == "The board met."
        views = list(screen.query(ColumnView))
        assert [v.title for v in views] == [
            "summarize@1 · fake/alpha",
            "summarize@1 · fake/beta",
            "summarize@2 · fake/alpha",
            "summarize@2 · fake/beta",
        ]
        assert all(v.result is not None and v.result.result.completion.ok for v in views)
    assert len(fake.requests) == 4 and all(r.params.get("seed") == 7 for r in fake.requests)


async def test_prompt_target_selects_the_prompt(workspace: Workspace) -> None:
    app = make_app(workspace, target=ItemTarget("summarize"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromptsScreen)
        assert screen.selected == "summarize"
        table = screen.query_one("#prompt-table", DataTable)
        assert table.get_row_at(table.cursor_row)[0] == "summarize"


async def test_trace_target_shows_that_trace(workspace: Workspace) -> None:
    fill(workspace)
    with workspace.session() as session:
        traces = list(session.exec(select(Trace)))
    wanted = next(t for t in traces if t.error)
    app = make_app(workspace, screen="traces", target=ItemTarget(wanted.uid[:8]))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TracesScreen)
        assert screen._detail is not None and screen._detail.trace.uid == wanted.uid
        table = screen.query_one("#trace-table", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate)[0].value == wanted.uid


async def test_eval_target_runs_the_suite(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptdeck.core.gateway import engine

    provider = FakeProvider(default="billing")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    (workspace.paths.suites / "mini.suite.yaml").write_text(MINI_SUITE)
    app = make_app(workspace, screen="evals", target=ItemTarget("mini", run=True))

    async with app.run_test(size=(150, 46)) as pilot:

        def finished() -> bool:
            with workspace.session() as session:
                run = session.exec(select(Run)).first()
                return run is not None and run.status == "finished" and run.suite == "mini"

        await wait_until(pilot, finished)
        await settle(pilot)
        suites = app.screen.query_one("#suite-table", DataTable)
        assert suites.get_row_at(suites.cursor_row)[0] == "mini"

"""Pilot tests of the Evals screen: run a suite with live progress, browse, grade."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Static

from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import Feedback, Run
from promptdeck.tui.screens.evals import EvalsScreen, ResultGrid
from tests.helpers import MINI_SUITE
from tests.tui.helpers import make_app, settle, wait_until

SUITE = MINI_SUITE.replace("cases:", "repeat: 2\ncases:", 1)


def label(request: ChatRequest) -> str:
    return "billing" if "charged" in request.messages[-1]["content"] else "technical"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default=label)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


async def _open_evals(pilot) -> EvalsScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, EvalsScreen)
    return screen


async def test_run_a_suite_from_the_screen_and_grade_a_cell(
    workspace: Workspace, fake: FakeProvider
) -> None:
    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE)
    app = make_app(workspace)
    async with app.run_test(size=(150, 46)) as pilot:
        screen = await _open_evals(pilot)
        suites = screen.query_one("#suite-table", DataTable)
        names = [str(suites.get_row_at(i)[0]) for i in range(suites.row_count)]
        suites.move_cursor(row=names.index("mini"))
        await pilot.press("r")

        def finished() -> bool:
            with workspace.session() as session:
                run = session.exec(select(Run)).first()
                return run is not None and run.status == "finished"

        await wait_until(pilot, finished)
        await settle(pilot)
        grid = screen.query_one("#evals-grid", ResultGrid)
        assert grid.row_count == 2
        assert [str(grid.get_row_at(i)[1]) for i in range(2)] == ["✔ 2/2", "✘ 0/2"]
        assert len(fake.requests) == 4
        await pilot.press("g")
        await settle(pilot)
        assert grid.cursor_coordinate == (0, 1)  # on a result cell, not the case name
        assert "✔" in str(screen.query_one("#evals-detail", Static).render())
        await pilot.press("down")
        await settle(pilot)
        detail = str(screen.query_one("#evals-detail", Static).render())
        assert "technical" in detail and "equals" in detail and "✘" in detail
        await pilot.press("minus")
        await settle(pilot)
        with workspace.session() as session:
            ratings = session.exec(select(Feedback)).all()
        assert [(f.thumbs, f.cell_id is not None) for f in ratings] == [(-1, True)]


async def test_filters_keep_only_failures(workspace: Workspace, fake: FakeProvider) -> None:
    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE)
    import asyncio

    from promptdeck.cli.main import main

    def headless_run() -> None:
        with pytest.raises(SystemExit):
            main(["--headless", "-w", str(workspace.paths.root), "eval", "mini"])

    await asyncio.to_thread(headless_run)
    app = make_app(workspace)
    async with app.run_test(size=(150, 46)) as pilot:
        screen = await _open_evals(pilot)
        grid = screen.query_one("#evals-grid", ResultGrid)
        assert grid.row_count == 2
        await pilot.press("f")
        await settle(pilot)
        assert grid.row_count == 1 and "login" in str(grid.get_row_at(0)[0])

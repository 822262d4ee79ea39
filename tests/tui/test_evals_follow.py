"""The Evals screen, by keys only: a grade shows in its cell, the detail follows the run
shown, and the lists' pass counts are the finished run's."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import DataTable, Static

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import Run
from promptdeck.tui.screens.evals import EvalsScreen, ResultGrid
from tests.tui.helpers import make_app, settle, wait_until
from tests.tui.test_evals_screen import SUITE, fake  # noqa: F401 - the fixture


def _uid(workspace: Workspace) -> str:
    with workspace.session() as session:
        return session.exec(select(Run.uid)).one()


async def test_grades_show_in_the_grid_and_the_detail_follows_the_run(
    workspace: Workspace,
    fake: FakeProvider,  # noqa: F811
) -> None:
    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE)
    app = make_app(workspace)
    async with app.run_test(size=(150, 46)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvalsScreen)
        suites = screen.query_one("#suite-table", DataTable)
        names = [str(suites.get_row_at(i)[0]) for i in range(suites.row_count)]
        await pilot.press(*["down"] * names.index("mini"))

        async def run_once(count: int) -> None:
            await pilot.press("r")

            def finished() -> bool:
                with workspace.session() as session:
                    runs = session.exec(select(Run)).all()
                    return len(runs) == count and all(r.status == "finished" for r in runs)

            await wait_until(pilot, finished)
            await settle(pilot)

        await run_once(1)
        runs = screen.query_one("#run-table", DataTable)
        assert [str(c) for c in runs.get_row_at(0)] == [
            "✘ 2/4",
            _uid(workspace),
            "mini",
            "finished",
        ]
        suite_row = suites.get_row_at(names.index("mini"))
        assert str(suite_row[1]) == "✘ 2/4"
        grid = screen.query_one("#evals-grid", ResultGrid)
        await pilot.press("g", "minus")  # 👎 on the first cell; the cursor moves on
        await settle(pilot)
        assert str(grid.get_row_at(0)[1]) == "✔ 2/2 👎"
        assert grid.cursor_coordinate == (1, 1)
        await pilot.press("4")
        await settle(pilot)
        assert str(grid.get_row_at(1)[1]) == "✘ 0/2 4/5"
        detail = str(screen.query_one("#evals-detail", Static).render())
        assert "4/5" in detail  # the detail of the graded (selected) cell
        # A second run; then back to the first, older run: the detail is not the other's.
        await pilot.press("escape")
        await run_once(2)
        assert runs.row_count == 2
        newest = str(runs.get_row_at(0)[1])
        assert newest in str(screen.query_one("#evals-status", Static).render())
        assert str(grid.get_row_at(0)[1]) == "✔ 2/2"  # the grades were on the other run
        await pilot.press("g", "down")
        await settle(pilot)
        assert "✘" in str(screen.query_one("#evals-detail", Static).render())
        await pilot.press("escape", "tab")
        assert app.focused is runs
        await pilot.press("down")
        await settle(pilot)
        older = str(runs.get_row_at(1)[1])
        assert older in str(screen.query_one("#evals-status", Static).render())
        assert str(screen.query_one("#evals-detail", Static).render()) == (
            "Pick a cell of this run."
        )
        assert str(grid.get_row_at(0)[1]) == "✔ 2/2 👎"

"""The Evals screen at 80 columns: each list and the grid keep the result mark and score
whole, and a resize lays them out again (160×48 → 80×24 → 160×48), by keys only."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.evals import EvalsScreen, ResultGrid
from tests.tui.helpers import make_app, settle
from tests.tui.test_evals_screen import fake  # noqa: F401 - the fixture
from tests.tui.test_narrow_screens import _filled, _whole

UID = "20261120-180000-000001"


def _texts(table: DataTable[Any], row: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(row)]


def _headers(table: DataTable[Any]) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


async def _resize(pilot: Pilot[None], width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await settle(pilot)


async def test_the_lists_and_the_grid_follow_the_terminal_width(
    workspace: Workspace,
    fake: FakeProvider,  # noqa: F811
) -> None:
    await _filled(workspace)
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvalsScreen)
        runs = screen.query_one("#run-table", DataTable)
        suites = screen.query_one("#suite-table", DataTable)
        grid = screen.query_one("#evals-grid", ResultGrid)
        assert _headers(runs) == ["Pass", "Run", "Suite", "Status"]
        assert _texts(runs, 0) == ["✘ 2/4", UID, "mini", "finished"]
        wide = _headers(grid)
        assert wide[1].startswith("classify-ticket@1 · ")

        await _resize(pilot, 80, 24)
        assert _texts(runs, 0)[:2] == ["✘ 2/4", "11-20 18:00:00"]
        assert _whole(runs, 2), "the run's mark, score and time are whole at 80 columns"
        names = [str(suites.get_row_at(i)[0]) for i in range(suites.row_count)]
        assert _texts(suites, names.index("mini"))[:2] == ["mini", "✘ 2/4"]
        assert _whole(suites, 2)
        assert _headers(grid)[1] == "1 smollm2-135m"  # laid out again, not at load only
        assert _whole(grid, 2)
        assert _texts(grid, 0)[1] == "✔ 2/2"

        await pilot.press("g", "down")  # the cursor survives the next resize
        await _resize(pilot, 160, 48)
        assert _headers(grid) == wide
        assert _texts(runs, 0)[1] == UID
        assert grid.cursor_coordinate == (1, 1)

        await pilot.press("escape", "1")  # resized while another screen shows
        await _resize(pilot, 80, 24)
        await pilot.press("3")
        await settle(pilot)
        assert _headers(grid)[1] == "1 smollm2-135m"
        assert _texts(runs, 0)[1] == "11-20 18:00:00"

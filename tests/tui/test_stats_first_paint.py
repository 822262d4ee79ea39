"""The Stats screen, by keys only: the first paint charts a model that has fresh calls,
says why a model has none, and says when shadow mode has observed nothing yet."""

from __future__ import annotations

from textual.widgets import DataTable, Sparkline, Static

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.calls_repo import write_calls
from promptdeck.tui.screens.stats import StatsScreen
from tests.tui.gateway_data import _record
from tests.tui.helpers import make_app, settle


def _fill(workspace: Workspace) -> None:
    records = [
        # The costliest model answered only from the cache, and once failed.
        _record(0, model="x/costly", prompt="p", text="a", latency=5, cost=0.9, cached="exact"),
        _record(1, model="x/costly", prompt="p", text=None, latency=5, cost=0.5, error="boom"),
        _record(2, model="x/fresh", prompt="p", text="b", latency=420, cost=0.01),
        _record(3, model="x/fresh", prompt="p", text="c", latency=380, cost=0.01),
    ]
    with workspace.session() as session:
        write_calls(session, records)


async def test_first_paint_charts_fresh_calls_and_says_what_shadow_mode_saw(
    workspace: Workspace,
) -> None:
    _fill(workspace)
    cache = workspace.config.cache.model_copy(update={"shadow": True})
    workspace.config = workspace.config.model_copy(update={"cache": cache})
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        models = screen.query_one("#model-table", DataTable)
        assert models.get_row_at(0)[0] == "x/costly"  # sorted by cost
        label = str(screen.query_one("#latency-label", Static).render())
        assert label.startswith("latency x/fresh (last 2 calls)")
        assert list(screen.query_one("#latency-chart", Sparkline).data or []) == [420.0, 380.0]
        assert models.cursor_row == 1
        await pilot.press("up")
        label = str(screen.query_one("#latency-label", Static).render())
        assert label == "latency x/costly: no fresh calls (2 calls: 1 from cache, 1 failed)"
        heading = screen.query_one("#shadow-heading", Static)
        assert heading.display and "no near requests observed yet" in str(heading.render())

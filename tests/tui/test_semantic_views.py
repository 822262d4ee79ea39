"""The semantic cache on screen: shadow mode's curve on Stats, a semantic cell's detail."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable

from promptdeck.core.evals.browse import CellDetail
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.cache_tables import SemanticShadow
from promptdeck.tui.screens.stats import StatsScreen
from promptdeck.tui.widgets.eval_text import cell_detail_text
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _observe(workspace: Workspace) -> None:
    rows = [  # (guarded, similarity, answer similarity)
        (True, 1.0, 1.0),
        (True, 0.97, 0.95),
        (False, 0.96, 0.31),
        (False, 0.7, 0.2),
    ]
    with workspace.session() as session:
        for i, (guarded, similarity, answer) in enumerate(rows):
            session.add(
                SemanticShadow(
                    trace_uid=f"t{i}",
                    model="local/smollm2-135m",
                    prompt_name="truthful-qa",
                    scope="0123456789abcdef" * 2,
                    similarity=similarity,
                    answer_similarity=answer,
                    would_serve=guarded and similarity >= 0.92,
                    guarded=guarded,
                    created_at=AT,
                )
            )


async def test_stats_screen_shows_what_each_threshold_would_serve(workspace: Workspace) -> None:
    fill(workspace)
    _observe(workspace)
    app = make_app(workspace, screen="stats")
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        table = screen.query_one("#shadow-table", DataTable)
        assert table.display and table.row_count == 6
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows[0][0] == "local/smollm2-135m · truthful-qa · 01234567 (4)"
        assert [r[1] for r in rows] == ["0.80", "0.85", "0.90", "0.92 ◀", "0.95", "0.99"]
        current = rows[3]
        assert tuple(current[2:]) == ("2", "2 (100%)", "0.97", "1", "0.31")
        assert tuple(rows[5][2:]) == ("1", "1 (100%)", "1.00", "0", "-")


async def test_stats_screen_hides_the_curve_until_shadow_mode_observed_something(
    workspace: Workspace,
) -> None:
    fill(workspace)
    app = make_app(workspace, screen="stats")
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#shadow-table", DataTable).display


def _detail(source: str, similarity: float | None) -> CellDetail:
    return CellDetail(
        cell_id=1,
        run="r",
        column="truthful-qa@1 · local/smollm2-135m",
        case_key="k",
        case_index=0,
        repeat=0,
        status="pass",
        output="Paris.",
        error=None,
        score=1.0,
        scores=[],
        trace=None,
        latency_ms=1.0,
        cost_usd=0.0,
        vars={"question": "what is the capital of france"},
        expected=None,
        description=None,
        feedback=[],
        source=source,
        similarity=similarity,
    )


def test_a_semantic_cells_detail_names_the_cache_and_its_similarity() -> None:
    text = cell_detail_text(_detail("semantic", 0.9734)).plain
    assert "semantic cache, similarity 0.973: the answer to a reworded request" in text
    assert "from the cache" in cell_detail_text(_detail("regraded", None)).plain
    assert "cache" not in cell_detail_text(_detail("fresh", None)).plain

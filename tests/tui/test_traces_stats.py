"""The Traces and Stats screens: Pilot tests and snapshots over fixed traces."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static, Tree

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.stats import StatsScreen
from promptdeck.tui.screens.traces import TracesScreen
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle


async def test_traces_screen_lists_filters_and_shows_spans(workspace: Workspace) -> None:
    fill(workspace)
    app = make_app(workspace, screen="traces")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TracesScreen)
        table = screen.query_one("#trace-table", DataTable)
        assert table.row_count == 6
        assert table.get_row_at(0)[1] == "summarize@1"  # newest first
        tree = screen.query_one("#span-tree", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels[0].startswith("render") and labels[-1].startswith("chat local/smollm2-135m")
        attributes = str(screen.query_one("#span-attributes", Static).render())
        assert "gen_ai.usage.output_tokens = 15" in attributes
        assert "- Another summary." in attributes
        # Move to the failed call: its error shows in the title.
        table.focus()
        await pilot.press("down", "down")
        await settle(pilot)
        title = str(screen.query_one("#trace-title", Static).render())
        assert "connection refused" in title
        # Filter by status.
        await pilot.press("slash")
        assert screen.focused is screen.query_one("#filter-prompt")
        await pilot.press(*"classify-ticket", "enter")
        await settle(pilot)
        assert table.row_count == 2


async def test_stats_screen_shows_percentiles_cache_and_budgets(workspace: Workspace) -> None:
    fill(workspace)
    app = make_app(workspace, screen="stats")
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        models = screen.query_one("#model-table", DataTable)
        rows = {models.get_row_at(i)[0]: models.get_row_at(i) for i in range(models.row_count)}
        gpt = rows["openai/gpt-4o-mini"]
        assert (gpt[1], str(gpt[5]), gpt[6]) == ("4", "1", "33%")  # 1 hit of 3 successes
        assert gpt[7] == "$0.0033" and gpt[2] == "730"  # p50 of 820 and 640
        local = rows["local/smollm2-135m"]
        assert tuple(local[2:5]) == ("2,150", "2,375", "2,395")
        assert screen.query_one("#latency-chart", Sparkline).data
        budgets = str(screen.query_one("#budget-view", Static).render())
        assert "monthly" in budgets and "of $10.00 per month → warn" in budgets
        caches = screen.query_one("#cache-table", DataTable)
        assert caches.row_count >= 3


def test_traces_screen_snapshot(snap_compare: Any, workspace: Workspace) -> None:
    """Traces: six fixed calls newest first (one failed in red), filters (prompt, model,
    status, source) above the list, the keys c (to case) and s (similar) in the footer,
    the newest call's span tree (render, cache.lookup, chat local/smollm2-135m) with the
    model span's gen_ai attributes, its input and output."""
    fill(workspace)

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)

    app = make_app(workspace, screen="traces")
    assert snap_compare(app, terminal_size=(140, 36), run_before=go)


def test_stats_screen_snapshot(snap_compare: Any, workspace: Workspace) -> None:
    """Stats: per-model calls, errors, hit rate, cost, tokens and p50/p95/p99; a latency
    sparkline; per-prompt rows; cache hits and savings; the demo's monthly budget bar."""
    fill(workspace)

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)

    app = make_app(workspace, screen="stats")
    assert snap_compare(app, terminal_size=(140, 44), run_before=go)


async def test_traces_filter_matches_substrings_and_latency_fits(workspace: Workspace) -> None:
    fill(workspace)
    app = make_app(workspace, screen="traces")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#trace-table", DataTable)
        latencies = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert "2.4 s" in latencies and "35 ms" in latencies
        assert all(len(v) <= 7 for v in latencies)
        await pilot.press("slash", *"CLASSIF", "enter")  # part of a name, any case
        await settle(pilot)
        names = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert table.row_count == 2 and all(n.startswith("classify-ticket") for n in names)
        # A LIKE wildcard is literal: `_` does not match the `-` of classify-ticket.
        await pilot.press("slash", "ctrl+u", *"classify", "underscore", "t", "enter")
        await settle(pilot)
        assert table.row_count == 0

"""At 80×24 every screen keeps its most important columns whole and its footer fits;
the screens are filled (traces, a run, labels) and snapshotted at that size."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, delete, select, update
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import Run, Span, Trace
from promptdeck.tui.app import SECTIONS
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle
from tests.tui.test_evals_screen import SUITE, fake  # noqa: F401 - the fixture

KEEP: dict[str, list[tuple[str, int]]] = {
    # screen: [(table, how many leading columns must show whole)]
    "prompts": [("#prompt-table", 4)],  # name, latest, labels, pass
    "traces": [("#trace-table", 4)],  # time, name, latency, status
    "evals": [
        ("#evals-grid", 2),  # the case and the first result (symbol and score)
        ("#run-table", 2),  # a run's result (symbol and score) and when it ran
        ("#suite-table", 2),  # a suite and its last run's result
    ],
    "stats": [("#model-table", 4)],  # model, calls, p50, p95
}


async def _filled(workspace: Workspace) -> None:
    from promptdeck.cli.main import main
    from promptdeck.core.prompts.versions import move_label

    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE)

    def headless_run() -> None:
        with pytest.raises(SystemExit):
            main(["--headless", "-w", str(workspace.paths.root), "eval", "mini"])

    await asyncio.to_thread(headless_run)
    with workspace.session() as session:
        move_label(session, "classify-ticket@1", "production", None)
        # The run's own traces carry random ids and measured latencies: the snapshots
        # show the fixed traces of `fill` only, and the run under a fixed id.
        eval_traces = select(Trace.id).where(Trace.kind == "eval")
        session.exec(delete(Span).where(col(Span.trace_id).in_(eval_traces)))  # type: ignore[call-overload]
        session.exec(delete(Trace).where(Trace.kind == "eval"))  # type: ignore[call-overload]
        session.exec(update(Run).values(uid="20261120-180000-000001"))  # type: ignore[call-overload]
    fill(workspace)


def _whole(table: DataTable[Any], count: int) -> bool:
    widths = [c.get_render_width(table) for c in list(table.columns.values())[:count]]
    return sum(widths) <= table.scrollable_content_region.width


async def test_every_screen_keeps_its_key_columns_and_footer_at_80x24(
    workspace: Workspace,
    fake: FakeProvider,  # noqa: F811
) -> None:
    await _filled(workspace)
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for mode, key, _ in SECTIONS:
            await pilot.press("escape", key)
            await settle(pilot)
            footer = app.screen.query_one(Footer)
            assert footer.virtual_size.width <= footer.size.width, mode
            for selector, count in KEEP.get(mode, []):
                table = app.screen.query_one(selector, DataTable)
                assert table.row_count, mode
                assert _whole(table, count), selector


@pytest.mark.parametrize(("mode", "key"), [(m, k) for m, k, _ in SECTIONS])
def test_filled_screen_at_80x24(
    snap_compare: Any,
    workspace: Workspace,
    fake: FakeProvider,  # noqa: F811
    mode: str,
    key: str,
) -> None:
    """Each screen with data at 80×24: the columns that matter whole, the footer fitting."""
    asyncio.run(_filled(workspace))

    async def go(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for editor in pilot.app.screen.query("TextArea, Input"):
            editor.cursor_blink = False  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(80, 24), run_before=go)

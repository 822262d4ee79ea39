"""The Traces screen with collected traces: source filter, to a case, similar traces."""

from __future__ import annotations

import pytest
import yaml
from textual.widgets import DataTable, OptionList, Select

from promptdeck.core.similar import service
from promptdeck.core.similar.index import TraceIndex
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.tui.screens.trace_dialogs import SimilarTracesDialog, ToCaseDialog
from promptdeck.tui.screens.traces import TracesScreen
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle, wait_until
from tests.unit.collect.spans import llm_span, store
from tests.unit.collect.test_similar import DIMS, QUESTIONS, FakeEmbedder


async def test_collected_traces_filter_to_case_and_similar(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(workspace)
    store(workspace, [llm_span(1 + i, q, a, offset_s=i) for i, (q, a) in enumerate(QUESTIONS)])

    def fake_index(paths: WorkspacePaths) -> TraceIndex:
        return TraceIndex(paths.indexes, FakeEmbedder(), DIMS, "fake")

    monkeypatch.setattr(service, "trace_index", fake_index)
    app = make_app(workspace, screen="traces")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TracesScreen)
        table = screen.query_one("#trace-table", DataTable)
        assert table.row_count == 11
        screen.query_one("#filter-source", Select).value = "otlp"
        await settle(pilot)
        assert table.row_count == 5
        # The newest collected trace is QUESTIONS[4]; move to the first one (the oldest).
        table.focus()
        table.move_cursor(row=4)
        await settle(pilot)
        assert screen._detail is not None and screen._detail.trace.uid == f"{1:032x}"
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SimilarTracesDialog))
        options = app.screen.query_one(OptionList)
        assert options.get_option_at_index(0).id == f"{2:032x}"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: screen._detail is not None and screen._detail.trace.uid == f"{2:032x}",
        )
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ToCaseDialog))
        await pilot.press(*"from-prod")
        app.screen.query_one("#to-case-prompt").value = "classify-ticket"
        await pilot.press("enter")
        path = workspace.paths.suites / "from-prod.suite.yaml"
        await wait_until(pilot, path.exists)
        case = yaml.safe_load(path.read_text())["cases"][0]
        assert case["expected"] == QUESTIONS[1][1]

"""The Evals screen: suites, runs, a run's results grid, a cell's detail, grading.

A run is a grid of cases × (prompt, model) coloured by result; a cell opens its
answer and every assertion's score and reason; ``+``, ``-``, ``1``-``5`` and ``c``
grade it and move on; ``r`` runs the selected suite with live progress.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from promptdeck.core.evals.browse import (
    CellDetail,
    RunGrid,
    SuiteRow,
    cell_detail,
    rate_cell,
    run_grid,
    suites_overview,
)
from promptdeck.core.evals.leases import run_states
from promptdeck.store.runs_repo import list_runs
from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.targets import ItemTarget
from promptdeck.tui.widgets.eval_text import (
    RunItem,
    cell_detail_text,
    cell_progress,
    grid_status,
    run_row,
    run_started,
    suite_row,
)
from promptdeck.tui.widgets.result_grid import ResultGrid, is_narrow

if TYPE_CHECKING:
    from promptdeck.core.evals.runner import CellFinished, RunFinished, RunOutcome, RunStarted

# ResultGrid lives with the widgets; it is exported here too, where it always was.
__all__ = ["EvalsScreen", "ResultGrid"]

FILTERS = [
    ("all", "all"),
    ("failures", "failures"),
    ("errors", "errors"),
    ("flaky", "flaky"),
    ("changed since baseline", "changed"),
]

SUITE_COLUMNS = ("Suite", "Last run", "Cases")
RUN_COLUMNS = ("Pass", "Run", "Suite", "Status")
"""The lists' columns, most important first: an 80-column terminal shows the first ones."""


@dataclass(frozen=True)
class Lists:
    """Suites and runs, loaded off the UI thread."""

    suites: list[SuiteRow]
    runs: list[RunItem]


def _cursor_key(table: DataTable[Any]) -> str | None:
    """The key of the row under a table's cursor (None when empty)."""
    if table.row_count == 0:
        return None
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    return None if key is None else str(key)


class EvalsScreen(WorkbenchScreen):
    """Suites, runs, results grid and cell detail."""

    HOME = "#suite-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_suite", "Run suite", id="evals.run"),
        Binding("f", "next_filter", "Filter", id="evals.filter"),
        Binding("slash", "search", "Search", id="evals.search"),
        Binding("g", "focus_grid", "Grade", id="evals.grid"),
        Binding("escape", "leave", "Back", id="evals.leave", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._grid: RunGrid | None = None
        self._run_uid: str | None = None
        self._suite_running = False
        self._shown_lists: Lists | None = None
        self._narrow = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="evals-body"):
            with Vertical(id="evals-left"):
                yield Static("Suites  (r runs the selected one)", classes="evals-heading")
                yield DataTable(id="suite-table", cursor_type="row")
                yield Static("Runs", classes="evals-heading")
                yield DataTable(id="run-table", cursor_type="row")
            with Vertical(id="evals-right"):
                with Horizontal(id="evals-toolbar"):
                    yield Select(FILTERS, value="all", allow_blank=False, id="evals-filter")
                    yield Input(placeholder="search cases (/)", id="evals-search")
                yield ProgressBar(id="evals-progress", show_eta=True)
                yield Static("", id="evals-status")
                yield ResultGrid(id="evals-grid", cursor_type="cell", zebra_stripes=True)
                with VerticalScroll(id="evals-detail-scroll"):
                    yield Static("Pick a run, then a cell.", id="evals-detail")

    def on_mount(self) -> None:
        self.query_one("#suite-table", DataTable).add_columns(*SUITE_COLUMNS)
        self.query_one("#run-table", DataTable).add_columns(*RUN_COLUMNS)
        self.query_one("#evals-progress", ProgressBar).display = False
        self.query_one("#suite-table", DataTable).focus()
        self.reload()

    # ------------------------------------------------------------------ lists
    def reload(self) -> None:
        """Reload suites and runs."""
        self.run_worker(
            self._lists,
            name="evals-lists",
            group="evals-lists",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _lists(self) -> Lists:
        workspace = self.workbench.workspace
        suites = suites_overview(workspace)
        with workspace.session() as session:
            listed = list_runs(session, limit=100)
            states = run_states(session, listed)  # "interrupted (12 of 40 cells)"…
            runs = [
                RunItem(r.uid, r.suite or "?", states[r.id], r.is_baseline)
                for r in listed
                if r.id is not None
            ]
        return Lists(suites, runs)

    def _fill_lists(self, lists: Lists) -> None:
        """Put the suites and runs in their tables, laid out for the terminal's width."""
        self._shown_lists = lists
        self._narrow = is_narrow(self.app.size.width)
        suites = self.query_one("#suite-table", DataTable)
        kept = _cursor_key(suites)
        suites.clear(columns=True)  # the columns' widths fit what they hold now
        suites.add_columns(*SUITE_COLUMNS)
        for s in lists.suites:
            suites.add_row(*suite_row(s, self._narrow), key=s.name)
        names = [s.name for s in lists.suites]
        if kept in names:  # a reload (after a run) keeps the suite selected
            suites.move_cursor(row=names.index(kept), animate=False)
        runs = self.query_one("#run-table", DataTable)
        runs.clear(columns=True)
        runs.add_columns(*RUN_COLUMNS)
        for run in lists.runs:
            runs.add_row(*run_row(run, self._narrow), key=run.uid)
        uids = [run.uid for run in lists.runs]
        if self._run_uid in uids:  # the cursor stays on the run the grid shows
            runs.move_cursor(row=uids.index(self._run_uid), animate=False)

    def on_resize(self) -> None:
        """Lay the lists and the grid out again when the terminal crosses the narrow width."""
        if self._shown_lists is not None and is_narrow(self.app.size.width) != self._narrow:
            self._fill_lists(self._shown_lists)
        self.query_one("#evals-grid", ResultGrid).relayout()

    def _show_lists(self, lists: Lists) -> None:
        self._fill_lists(lists)
        suites = self.query_one("#suite-table", DataTable)
        if lists.runs and self._run_uid is None:
            self._open_run(lists.runs[0].uid)
        target = self.workbench.take_target("evals")
        if isinstance(target, ItemTarget):  # `promptdeck eval SUITE`
            row = next((i for i, s in enumerate(lists.suites) if s.name == target.name), None)
            if row is None:
                self.notify(f"no suite {target.name!r}", severity="error")
                return
            suites.move_cursor(row=row)
            if target.run:
                self.action_run_suite()

    @on(DataTable.RowHighlighted, "#run-table")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and event.row_key.value != self._run_uid:
            self._open_run(str(event.row_key.value))

    def _open_run(self, uid: str) -> None:
        self._run_uid = uid
        self.query_one("#evals-detail", Static).update("Pick a cell of this run.")
        self._load_grid()

    def _load_grid(self) -> None:
        if self._run_uid is None:
            return
        uid = self._run_uid
        view = str(self.query_one("#evals-filter", Select).value)
        search = self.query_one("#evals-search", Input).value
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: run_grid(workspace, uid, view, search),  # type: ignore[arg-type]
            name="evals-grid",
            group="evals-grid",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _show_grid(self, grid: RunGrid) -> None:
        same = self._grid is not None and self._grid.uid == grid.uid
        self._grid = grid
        self.query_one("#evals-grid", ResultGrid).show_grid(grid, keep_cursor=same)
        self.query_one("#evals-status", Static).update(grid_status(grid))
        self._cell_highlighted()  # the detail follows the grid's cell, of this run

    # ----------------------------------------------------------------- detail
    def _selected_cell(self) -> int | None:
        table = self.query_one("#evals-grid", ResultGrid)
        if self._grid is None or table.row_count == 0:
            return None
        row, column = table.cursor_coordinate
        if column == 0 or row >= len(self._grid.rows):
            return None
        cell = self._grid.rows[row].cells.get(self._grid.columns[column - 1])
        return cell.cell_ids[0] if cell and cell.cell_ids else None

    @on(DataTable.CellHighlighted, "#evals-grid")
    def _cell_highlighted(self) -> None:
        cell_id = self._selected_cell()
        if cell_id is None:
            self.query_one("#evals-detail", Static).update("Pick a cell of this run.")
            return
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: cell_detail(workspace, cell_id),
            name="evals-detail",
            group="evals-detail",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _show_detail(self, d: CellDetail) -> None:
        if self._grid is None or d.run != self._grid.uid:
            return  # a detail of the run shown before: the grid has moved on
        self.query_one("#evals-detail", Static).update(cell_detail_text(d))

    # ---------------------------------------------------------------- grading
    @on(ResultGrid.Graded)
    def _graded(self, event: ResultGrid.Graded) -> None:
        if self._grid is None:
            return
        row, column = event.coordinate
        cell = self._grid.rows[row].cells.get(self._grid.columns[column - 1])
        if cell is None or not cell.cell_ids:
            return
        cell_id = cell.cell_ids[0]
        if event.grade == "comment":
            from promptdeck.tui.screens.comment_dialog import CommentDialog

            def save(comment: str | None) -> None:
                if comment:
                    self._rate(cell_id, comment=comment)

            self.app.push_screen(CommentDialog(), save)
            return
        if event.grade in ("up", "down"):
            self._rate(cell_id, thumbs=1 if event.grade == "up" else -1)
        else:
            self._rate(cell_id, rating=int(event.grade))

    def _rate(self, cell_id: int, **kwargs: Any) -> None:
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: rate_cell(workspace, cell_id, **kwargs),
            name="evals-rate",
            group="evals-rate",
            thread=True,
            exit_on_error=False,
        )

    # ------------------------------------------------------------ filters etc.
    @on(Select.Changed, "#evals-filter")
    @on(Input.Changed, "#evals-search")
    def _filters_changed(self) -> None:
        self._load_grid()

    def action_next_filter(self) -> None:
        """Cycle through all, failures, errors, flaky, changed."""
        select = self.query_one("#evals-filter", Select)
        values = [v for _, v in FILTERS]
        select.value = values[(values.index(str(select.value)) + 1) % len(values)]

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#evals-search", Input).focus()

    def action_focus_grid(self) -> None:
        """Focus the grid on a result cell (for grading with +, -, 1–5, c)."""
        grid = self.query_one("#evals-grid", ResultGrid)
        grid.focus()
        if grid.row_count and grid.cursor_coordinate.column == 0 and len(grid.columns) > 1:
            grid.move_cursor(column=1)  # the first column names the case; grades go right

    def action_leave(self) -> None:
        """Back to the suite list."""
        self.query_one("#suite-table", DataTable).focus()

    # ----------------------------------------------------------------- running
    def action_run_suite(self) -> None:
        """Run the selected suite, with live progress."""
        table = self.query_one("#suite-table", DataTable)
        if self._suite_running or table.row_count == 0:
            if self._suite_running:
                self.notify("A run is already going", severity="warning")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        name = str(row_key.value)
        self._suite_running = True
        bar = self.query_one("#evals-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#evals-status", Static).update(f"planning {name}…")
        self.run_worker(
            lambda: self._run_in_thread(name),
            name="evals-run",
            group="evals-run",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _run_in_thread(self, name: str) -> RunOutcome:
        from promptdeck.core.evals.runner import EvalRunner, plan_suite
        from promptdeck.core.gateway.engine import Gateway

        workspace = self.workbench.workspace
        workspace.sync()  # as `promptdeck eval` does: run what the files say now
        plan = plan_suite(workspace, name)
        reporter = _ScreenReporter(self)

        async def go() -> RunOutcome:
            gateway = Gateway.for_workspace(workspace)
            try:
                return await EvalRunner(workspace, gateway, reporter).run(plan)
            finally:
                await gateway.aclose()

        return asyncio.run(go())

    def progress_started(self, event: RunStarted) -> None:
        """A run started (called on the UI thread)."""
        bar = self.query_one("#evals-progress", ProgressBar)
        bar.update(total=event.total, progress=event.total - event.pending)
        self.query_one("#evals-status", Static).update(run_started(event))

    def progress_cell(self, event: CellFinished) -> None:
        """A cell finished (called on the UI thread)."""
        self.query_one("#evals-progress", ProgressBar).update(progress=event.done)
        self.query_one("#evals-status", Static).update(cell_progress(event))

    def progress_finished(self, event: RunFinished) -> None:
        """The run ended (called on the UI thread)."""
        self.query_one("#evals-progress", ProgressBar).display = False
        self._suite_running = False
        self._run_uid = event.run_uid
        s = event.summary
        self.notify(
            f"{s.passed} passed, {s.failed} failed, {s.errors} errors",
            title=f"{event.run_uid} {event.status}",
        )
        self.reload()
        self._load_grid()

    # ----------------------------------------------------------------- workers
    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.name == "evals-run":
            self._suite_running = False
            self.query_one("#evals-progress", ProgressBar).display = False
            self.query_one("#evals-status", Static).update("run not started")
        if event.state != WorkerState.SUCCESS:
            return
        result = worker.result
        if worker.name == "evals-lists" and isinstance(result, Lists):
            self._show_lists(result)
        elif worker.name == "evals-grid" and isinstance(result, RunGrid):
            self._show_grid(result)
        elif worker.name == "evals-detail" and isinstance(result, CellDetail):
            self._show_detail(result)
        elif worker.name == "evals-rate":
            self.notify("Rating saved", severity="information")
            self._load_grid()  # the grade shows in its cell; the detail follows
        elif worker.name == "evals-run":
            self.reload()  # the run is committed now: its pass counts are final
            self._load_grid()


class _ScreenReporter:
    """Forwards a run's progress from the runner's thread to the screen."""

    def __init__(self, screen: EvalsScreen) -> None:
        self.screen = screen

    def started(self, event: RunStarted) -> None:
        self.screen.app.call_from_thread(self.screen.progress_started, event)

    def cell(self, event: CellFinished) -> None:
        self.screen.app.call_from_thread(self.screen.progress_cell, event)

    def finished(self, event: RunFinished) -> None:
        self.screen.app.call_from_thread(self.screen.progress_finished, event)

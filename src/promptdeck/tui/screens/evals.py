"""The Evals screen: suites, runs, a run's results grid, a cell's detail, grading.

A run is a grid of cases × (prompt, model) coloured by result; a cell opens its
answer and every assertion's score and reason; ``+``, ``-``, ``1``-``5`` and ``c``
grade it and move on; ``r`` runs the selected suite with live progress.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
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
from promptdeck.store.runs_repo import list_runs
from promptdeck.tui.screens.base import WorkbenchScreen

if TYPE_CHECKING:
    from promptdeck.core.evals.runner import CellFinished, RunFinished, RunOutcome, RunStarted

__all__ = ["EvalsScreen", "ResultGrid"]

STYLES = {
    "pass": ("✔", "green"),
    "fail": ("✘", "red"),
    "error": ("!", "bold red"),
    "flaky": ("~", "yellow"),
    "pending": ("…", "dim"),
}
FILTERS = [
    ("all", "all"),
    ("failures", "failures"),
    ("errors", "errors"),
    ("flaky", "flaky"),
    ("changed since baseline", "changed"),
]


class ResultGrid(DataTable[Any]):
    """The grid of results; grades the selected cell from the keyboard and moves on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus", "grade('up')", "👍", id="evals.thumbs_up"),
        Binding("minus", "grade('down')", "👎", id="evals.thumbs_down"),
        *[
            Binding(str(n), f"grade('{n}')", f"{n}/5", id=f"evals.rate_{n}", show=n == 1)
            for n in range(1, 6)
        ],
        Binding("c", "grade('comment')", "Comment", id="evals.comment"),
    ]

    class Graded(Message):
        """The user graded the selected cell."""

        def __init__(self, grid: ResultGrid, grade: str, coordinate: Coordinate) -> None:
            super().__init__()
            self.grid = grid
            self.grade = grade
            self.coordinate = coordinate

    def action_grade(self, grade: str) -> None:
        """Grade the selected cell, then move to the next one."""
        if self.row_count == 0 or self.cursor_coordinate.column == 0:
            return
        self.post_message(self.Graded(self, grade, self.cursor_coordinate))
        row, column = self.cursor_coordinate
        if column + 1 < len(self.columns):
            self.move_cursor(column=column + 1)
        elif row + 1 < self.row_count:
            self.move_cursor(row=row + 1, column=1)


@dataclass(frozen=True)
class Lists:
    """Suites and runs, loaded off the UI thread."""

    suites: list[SuiteRow]
    runs: list[tuple[str, str, str, int, int, bool]]


class EvalsScreen(WorkbenchScreen):
    """Suites, runs, results grid and cell detail."""

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
        self.query_one("#suite-table", DataTable).add_columns("Suite", "Cases", "Last run")
        self.query_one("#run-table", DataTable).add_columns("Run", "Suite", "Status", "Pass")
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
            runs = [
                (
                    r.uid,
                    r.suite or "?",
                    r.status,
                    r.passed,
                    r.passed + r.failed + r.errors,
                    r.is_baseline,
                )
                for r in list_runs(session, limit=100)
            ]
        return Lists(suites, runs)

    def _show_lists(self, lists: Lists) -> None:
        suites = self.query_one("#suite-table", DataTable)
        suites.clear()
        for s in lists.suites:
            last = (
                Text(s.problem.split(": ", 1)[-1][:30], style="red")
                if s.problem
                else (f"{s.passed}/{s.total} {s.last_status}" if s.last_run else "never run")
            )
            suites.add_row(s.name, "-" if s.cases is None else str(s.cases), last, key=s.name)
        runs = self.query_one("#run-table", DataTable)
        runs.clear()
        for uid, suite, status, passed, total, baseline in lists.runs:
            runs.add_row(
                uid, suite, status, f"{passed}/{total}" + (" ★" if baseline else ""), key=uid
            )
        if lists.runs and self._run_uid is None:
            self._open_run(lists.runs[0][0])

    @on(DataTable.RowHighlighted, "#run-table")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and event.row_key.value != self._run_uid:
            self._open_run(str(event.row_key.value))

    def _open_run(self, uid: str) -> None:
        self._run_uid = uid
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
        self._grid = grid
        table = self.query_one("#evals-grid", ResultGrid)
        table.clear(columns=True)
        table.add_column("Case", key="case")
        for column in grid.columns:
            table.add_column(column, key=column)
        for row in grid.rows:
            label = f"#{row.case_index} {row.description or row.case_key.split('#')[0]}"
            cells: list[Any] = [label[:40]]
            for column in grid.columns:
                cell = row.cells.get(column)
                if cell is None:
                    cells.append("")
                    continue
                mark, style = STYLES[cell.status]
                total = cell.passed + cell.failed + cell.errors
                detail = f"{cell.passed}/{total}" if total > 1 else f"{cell.score:.2f}"
                cells.append(Text(f"{mark} {detail}", style=style))
            table.add_row(*cells, key=row.case_key)
        base = f" · baseline {grid.baseline}" if grid.baseline else ""
        self.query_one("#evals-status", Static).update(
            f"run {grid.uid} · {grid.suite} · {grid.status} · {len(grid.rows)} cases shown{base}"
        )

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
        text = Text()
        text.append(f"{d.column} · case #{d.case_index}", style="bold")
        text.append(f" · repeat {d.repeat} · {d.status}\n")
        if d.description:
            text.append(f"{d.description}\n", style="italic")
        for key, value in d.vars.items():
            text.append(f"{key}: ", style="bold")
            text.append(f"{str(value)[:300]}\n")
        if d.expected is not None:
            text.append("expected: ", style="bold")
            text.append(f"{str(d.expected)[:300]}\n")
        text.append("\nanswer\n", style="bold")
        text.append(f"{d.output if d.output is not None else d.error}\n")
        text.append("\nassertions\n", style="bold")
        for name, value, passed, reason in d.scores:
            text.append("✔ " if passed else "✘ ", style="green" if passed else "red")
            text.append(f"{name} {value:.2f}  {reason}\n")
        if d.feedback:
            text.append("\nratings: " + " · ".join(d.feedback) + "\n")
        latency = f"{d.latency_ms:.0f} ms" if d.latency_ms is not None else "-"
        text.append(f"\ntrace {d.trace or '-'} · {latency} · ${d.cost_usd:.4f}", style="dim")
        self.query_one("#evals-detail", Static).update(text)

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
        """Focus the grid (for grading with +, -, 1–5, c)."""
        self.query_one("#evals-grid", ResultGrid).focus()

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
        note = f" · note: {event.judge_warning}" if event.judge_warning else ""
        self.query_one("#evals-status", Static).update(
            f"running {event.suite}: {event.pending} calls, {event.cached} cached{note}"
        )

    def progress_cell(self, event: CellFinished) -> None:
        """A cell finished (called on the UI thread)."""
        self.query_one("#evals-progress", ProgressBar).update(progress=event.done)
        self.query_one("#evals-status", Static).update(
            f"{event.done}/{event.total} · {event.passed} passed · {event.failed} failed · "
            f"{event.errors} errors · ${event.cost_usd:.4f}"
        )

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
            self._cell_highlighted()


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

"""The Traces screen: every model call, newest first, with its span tree and attributes.

The list is read from SQLite a page at a time in a thread worker, filtered by
prompt, model and status; selecting a trace loads its spans (another worker) into
a tree, and selecting a span shows its attributes and the call's text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Select, Static, Tree
from textual.worker import Worker, WorkerState

from promptdeck.store.tables import Span, Trace
from promptdeck.store.traces_repo import TraceDetail, TraceFilter, find_trace, list_traces
from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.screens.trace_actions import run_similar, run_to_case
from promptdeck.tui.targets import ItemTarget
from promptdeck.tui.widgets.span_tree import SpanTree

__all__ = ["PAGE_SIZE", "TracesScreen"]

PAGE_SIZE = 100
NAME_CHARS = 20
"""The widest a trace's name gets in the list (time, name, latency, status fit 80 columns)."""
LIST_WORKER = "traces-list"
DETAIL_WORKER = "trace-detail"


@dataclass(frozen=True)
class TracePage:
    """One page of the list, loaded off the UI thread."""

    traces: list[Trace]
    page: int
    where: TraceFilter


def _fmt_ms(value: float | None) -> str:
    """A latency in at most 7 characters: ``35 ms``, ``2.4 s``, ``1.5 min``."""
    if value is None:
        return "-"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def _attr_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 400 else text[:399] + "…"


class TracesScreen(WorkbenchScreen):
    """Traces: the list with filters, the span tree and each span's attributes."""

    CSS_PATH = "traces.tcss"
    AUTO_FOCUS = "#trace-table"
    FOOTER_SPARE = ("refresh",)
    """Refresh leaves the footer first when it has no room (80 columns)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="traces.refresh"),
        Binding("right_square_bracket", "page(1)", "Older", id="traces.older"),
        Binding("left_square_bracket", "page(-1)", "Newer", id="traces.newer"),
        Binding("slash", "focus_filter", "Filter", id="traces.filter"),
        Binding("c", "to_case", "To case", id="traces.to_case"),
        Binding("s", "similar", "Similar", id="traces.similar"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page = 0
        self._traces: list[Trace] = []
        self._detail: TraceDetail | None = None
        self._wanted: str | None = None
        self._to_list = False
        """A filter was applied: the list takes the focus once it has loaded."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="traces-body"):
            with Vertical(id="traces-list-pane"):
                with Horizontal(id="traces-filters"):
                    yield Input(placeholder="prompt", id="filter-prompt")
                    yield Input(placeholder="model", id="filter-model")
                    yield Select[str](
                        [("ok", "ok"), ("error", "error")],
                        prompt="status",
                        id="filter-status",
                        allow_blank=True,
                    )
                    yield Select[str](
                        [("promptdeck", "promptdeck"), ("collected", "otlp")],
                        prompt="source",
                        id="filter-source",
                        allow_blank=True,
                    )
                yield DataTable(id="trace-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="traces-summary")
            with Vertical(id="trace-detail"):
                yield Static("Select a trace.", id="trace-title")
                yield SpanTree(id="span-tree")
                with VerticalScroll(id="span-scroll"):
                    yield Static("", id="span-attributes")

    def on_mount(self) -> None:
        table = self.query_one("#trace-table", DataTable)
        # Time, name, latency and status first: what still fits at 80 columns.
        table.add_columns("Time (UTC)", "Name", "Latency", "Status", "Model", "Cost")
        table.focus()
        self.action_refresh()

    # ---------------------------------------------------------------- loading
    def _filter(self) -> TraceFilter:
        prompt = self.query_one("#filter-prompt", Input).value.strip() or None
        model = self.query_one("#filter-model", Input).value.strip() or None
        status = self.query_one("#filter-status", Select).value
        source = self.query_one("#filter-source", Select).value
        return TraceFilter(
            prompt=prompt,
            model=model,
            status=status if isinstance(status, str) else None,
            substring=True,
            source=source if isinstance(source, str) else None,
        )

    def action_refresh(self) -> None:
        """Reload the current page."""
        where, page = self._filter(), self.page
        self.query_one("#trace-table", DataTable).loading = True
        self.run_worker(
            lambda: self._load(where, page),
            name=LIST_WORKER,
            group="traces",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self, where: TraceFilter, page: int) -> TracePage:
        with self.workbench.workspace.session() as session:
            found = list_traces(session, where, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        return TracePage(found, page, where)

    def action_page(self, step: int) -> None:
        """Show older (``1``) or newer (``-1``) traces."""
        if step > 0 and len(self._traces) < PAGE_SIZE:
            self.notify("No older traces.", timeout=2)
            return
        self.page = max(0, self.page + step)
        self.action_refresh()

    def action_focus_filter(self) -> None:
        """Move the focus to the prompt filter."""
        self.query_one("#filter-prompt", Input).focus()

    @on(Input.Submitted)
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self.page = 0
        self._to_list = True  # the list shows "loading" now, and cannot take the focus yet
        self.action_refresh()

    def _load_detail(self, uid: str) -> None:
        def load() -> TraceDetail | None:
            with self.workbench.workspace.session() as session:
                return find_trace(session, uid)

        self.run_worker(
            load,
            name=DETAIL_WORKER,
            group="trace-detail",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def action_to_case(self) -> None:
        """Save the shown trace as a case of a suite (asks which)."""
        if self._detail is not None:
            run_to_case(self, self._detail)

    def action_similar(self) -> None:
        """Show the traces nearest to the shown one by prompt and answer."""
        if self._detail is not None:
            run_similar(self, self._detail.trace.uid, self._load_detail)

    # ------------------------------------------------------------- showing
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name not in (LIST_WORKER, DETAIL_WORKER):
            return
        if event.state is WorkerState.ERROR:
            self.query_one("#trace-table", DataTable).loading = False
            self.notify(f"cannot read traces: {worker.error}", severity="error")
        elif event.state is WorkerState.SUCCESS:
            if worker.name == LIST_WORKER and isinstance(worker.result, TracePage):
                self._show_page(worker.result)
            elif worker.name == DETAIL_WORKER:
                detail = worker.result if isinstance(worker.result, TraceDetail) else None
                if detail is None and self._wanted is not None:
                    self.notify(f"no trace {self._wanted!r}", severity="error")
                self._wanted = None
                self._show_detail(detail)

    def _show_page(self, page: TracePage) -> None:
        self._traces = page.traces
        table = self.query_one("#trace-table", DataTable)
        table.loading = False
        if self._to_list:
            self._to_list = False
            table.focus()
        table.clear()
        for t in page.traces:
            status = Text(t.status, style="green" if t.status == "ok" else "bold red")
            table.add_row(
                t.started_at.strftime("%m-%d %H:%M"),
                t.name if len(t.name) <= NAME_CHARS else t.name[: NAME_CHARS - 1] + "…",
                Text(_fmt_ms(t.latency_ms), justify="right"),
                status,
                t.model or "-",
                f"${t.cost_usd:.4f}" if t.cost_known else "$?",
                key=t.uid,
            )
        first = page.page * PAGE_SIZE + 1
        shown = f"traces {first}–{first + len(page.traces) - 1}" if page.traces else "no traces yet"
        hints = "  [ newer · ] older · / filter" if page.traces else "  run `promptdeck run`"
        self.query_one("#traces-summary", Static).update(shown + hints)
        target = self.workbench.take_target("traces")
        if isinstance(target, ItemTarget):  # `promptdeck traces show ID`
            self._wanted = target.name
            row = next(
                (i for i, t in enumerate(page.traces) if t.uid.startswith(target.name)), None
            )
            if row is not None:
                table.move_cursor(row=row)
            self._load_detail(target.name)
        elif page.traces:
            self._load_detail(page.traces[0].uid)
        else:
            self._show_detail(None)

    @on(DataTable.RowHighlighted, "#trace-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._wanted is not None:  # the trace the command line asked for is loading
            return
        if event.row_key.value and (
            self._detail is None or self._detail.trace.uid != event.row_key.value
        ):
            self._load_detail(str(event.row_key.value))

    def _show_detail(self, detail: TraceDetail | None) -> None:
        self._detail = detail
        title = self.query_one("#trace-title", Static)
        tree = self.query_one("#span-tree", SpanTree)
        if detail is None:
            tree.show_trace(None, [])
            title.update("Select a trace.")
            self.query_one("#span-attributes", Static).update("")
            return
        t = detail.trace
        line = Text.assemble(
            (t.name, "bold"),
            f"  {t.model or '-'}  ",
            (t.status, "green" if t.status == "ok" else "bold red"),
            f"\n{_fmt_ms(t.latency_ms)} · {t.total_tokens or 0} tokens · "
            + (f"${t.cost_usd:.6f}" if t.cost_known else "cost unknown"),
            f"\ntrace {t.uid}",
        )
        if t.error:
            line.append(f"\n{t.error}", style="red")
        title.update(line)
        tree.show_trace(t, detail.spans)
        llm = next((s for s in detail.spans if s.kind == "llm"), None)
        self._show_span(llm or (detail.spans[0] if detail.spans else None))

    @on(Tree.NodeHighlighted, "#span-tree")
    def _span_highlighted(self, event: Tree.NodeHighlighted[Span | None]) -> None:
        if event.node.data is not None:
            self._show_span(event.node.data)

    def _show_span(self, span: Span | None) -> None:
        body = Text()
        if span is not None:
            body.append(f"{span.name}\n", style="bold")
            for key in sorted(span.attributes):
                if key in ("gen_ai.output.text", "gen_ai.input.messages"):
                    continue
                body.append(f"{key}", style="cyan")
                body.append(f" = {_attr_text(span.attributes[key])}\n")
            messages = span.attributes.get("gen_ai.input.messages")
            if isinstance(messages, list):
                body.append("\ninput\n", style="bold")
                for m in messages:
                    body.append(f"[{m.get('role', '?')}] ", style="magenta")
                    body.append(f"{m.get('content', '')}\n")
        if self._detail is not None and self._detail.completion is not None:
            completion = self._detail.completion
            if completion.text:
                body.append("\noutput\n", style="bold")
                body.append(completion.text)
        self.query_one("#span-attributes", Static).update(body)

"""The Stats screen: cost, cache and latency (p50/p95/p99) per model and prompt, and budgets.

With the semantic cache in shadow mode, a last table shows per scope what each
similarity threshold would have served and how similar those answers were to the
fresh ones (hidden while shadow mode has observed nothing).

Everything is read in one thread worker; the tables and the latency chart are
filled on the UI thread when it finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static
from textual.worker import Worker, WorkerState

from promptdeck.core.gateway.budgets import BudgetStatus, budget_status
from promptdeck.store.cache_repo import CacheStat, cache_stats
from promptdeck.store.shadow_repo import CURVE_THRESHOLDS, ShadowCurve, shadow_curves
from promptdeck.store.stats_repo import CallStat, call_stats
from promptdeck.tui.screens.base import WorkbenchScreen

__all__ = ["StatsScreen", "StatsSnapshot"]

STATS_WORKER = "stats-load"
SHADOW_HEADING = (
    "Semantic cache in shadow mode: the near hits each threshold would have served, "
    "and how similar their answers were to the fresh ones"
)


@dataclass(frozen=True)
class StatsSnapshot:
    """What the screen shows, loaded off the UI thread."""

    by_model: list[CallStat]
    by_prompt: list[CallStat]
    caches: list[CacheStat]
    budgets: list[BudgetStatus]
    shadow: list[ShadowCurve]
    threshold: float
    shadow_on: bool = False


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _sim(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _curve_rows(curve: ShadowCurve, current: float) -> list[tuple[str, ...]]:
    """One row per threshold of a scope's curve; the scope is named on its first row."""
    name = f"{curve.model} · {curve.prompt or '-'} · {curve.scope[:8]} ({curve.calls})"
    return [
        (
            name if i == 0 else "",
            f"{p.threshold:.2f}" + (" ◀" if p.threshold == current else ""),
            str(p.served),
            "-" if p.precision is None else f"{p.same_answer} ({p.precision:.0%})",
            _sim(p.answer_similarity),
            str(p.refused),
            _sim(p.refused_answer_similarity),
        )
        for i, p in enumerate(curve.points)
    ]


def _bar(fraction: float, width: int = 20) -> Text:
    filled = min(width, round(fraction * width))
    style = "green" if fraction < 0.75 else ("yellow" if fraction < 1 else "bold red")
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"))


class StatsScreen(WorkbenchScreen):
    """Stats: calls, cost, cache and latency per model and prompt; budgets."""

    CSS_PATH = "stats.tcss"
    HOME = "#model-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="stats.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: StatsSnapshot | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="stats-body"):
            yield Static("Per model", classes="stats-heading")
            yield DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="stats-chart-row"):
                yield Static("", id="latency-label")
                yield Sparkline([], id="latency-chart")
            yield Static("Per prompt", classes="stats-heading")
            yield DataTable(id="prompt-stats-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="stats-bottom"):
                with Vertical(id="cache-pane"):
                    yield Static("Caches", classes="stats-heading")
                    yield DataTable(id="cache-table", cursor_type="row")
                with Vertical(id="budget-pane"):
                    yield Static("Budgets", classes="stats-heading")
                    yield Static("", id="budget-view")
            yield Static(SHADOW_HEADING, classes="stats-heading", id="shadow-heading")
            yield DataTable(id="shadow-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # Latency first after the calls: p50 and p95 still show at 80 columns.
        columns = ("Calls", "p50 ms", "p95 ms", "p99 ms", "Errors", "Hit rate", "Cost", "Tokens")
        self.query_one("#model-table", DataTable).add_columns("Model", *columns)
        self.query_one("#prompt-stats-table", DataTable).add_columns("Prompt", "Model", *columns)
        self.query_one("#cache-table", DataTable).add_columns(
            "Cache", "Model", "Prompt", "Hits", "Misses", "Hit rate", "Saved"
        )
        self.query_one("#shadow-table", DataTable).add_columns(
            "Scope (calls)",
            "Threshold",
            "Would serve",
            "Same answer",
            "Answer sim",
            "Refused by keys",
            "Their answer sim",
        )
        self._show_shadow([], 0.0)
        for table in self.query(DataTable):
            table.loading = True
        self.action_refresh()

    def action_refresh(self) -> None:
        """Reload the statistics."""
        self.run_worker(
            self._load,
            name=STATS_WORKER,
            group="stats",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> StatsSnapshot:
        workspace = self.workbench.workspace
        threshold = workspace.config.cache.semantic_threshold
        with workspace.session() as session:
            return StatsSnapshot(
                by_model=call_stats(session, by_prompt=False),
                by_prompt=[s for s in call_stats(session) if s.prompt is not None],
                caches=cache_stats(session),
                budgets=budget_status(workspace.config, session),
                shadow=shadow_curves(session, (*CURVE_THRESHOLDS, threshold)),
                threshold=threshold,
                shadow_on=workspace.config.cache.shadow,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != STATS_WORKER:
            return
        if event.state is WorkerState.ERROR:
            self.notify(f"cannot read statistics: {event.worker.error}", severity="error")
        elif event.state is WorkerState.SUCCESS and isinstance(event.worker.result, StatsSnapshot):
            self._show(event.worker.result)

    @staticmethod
    def _cells(s: CallStat) -> tuple[str | Text, ...]:
        return (
            str(s.calls),
            _ms(s.p50_ms),
            _ms(s.p95_ms),
            _ms(s.p99_ms),
            Text(str(s.errors), style="bold red" if s.errors else ""),
            f"{s.hit_rate:.0%}",
            s.cost_text,
            f"{s.tokens:,}",
        )

    def _show(self, snapshot: StatsSnapshot) -> None:
        self._snapshot = snapshot
        for table in self.query(DataTable):
            table.loading = False
        models = self.query_one("#model-table", DataTable)
        models.clear()
        for i, s in enumerate(snapshot.by_model):
            models.add_row(s.model, *self._cells(s), key=str(i))
        prompts = self.query_one("#prompt-stats-table", DataTable)
        prompts.clear()
        for s in snapshot.by_prompt:
            prompts.add_row(s.prompt or "-", s.model, *self._cells(s))
        caches = self.query_one("#cache-table", DataTable)
        caches.clear()
        for c in snapshot.caches:
            caches.add_row(
                c.cache,
                c.model,
                c.prompt or "-",
                str(c.hits),
                str(c.misses),
                f"{c.hit_rate:.0%}",
                f"${c.saved_usd:.4f} · {c.saved_ms / 1000:.1f} s",
            )
        self._show_shadow(snapshot.shadow, snapshot.threshold, snapshot.shadow_on)
        budgets = Text()
        if not snapshot.budgets:
            budgets.append("No budgets in promptdeck.toml.", style="dim")
        for b in snapshot.budgets:
            budgets.append(f"{b.name:<12} ")
            budgets.append_text(_bar(b.fraction))
            budgets.append(
                f" ${b.spent_usd:.4f} of ${b.limit_usd:.2f} per {b.period} → {b.action}\n"
            )
        self.query_one("#budget-view", Static).update(budgets)
        # The chart starts on the first model with fresh calls (the costliest may have
        # only cache hits or errors); the cursor goes with it.
        fresh = next((i for i, s in enumerate(snapshot.by_model) if s.latencies), 0)
        if snapshot.by_model:
            models.move_cursor(row=fresh, animate=False)
        self._chart(snapshot.by_model[fresh] if snapshot.by_model else None)

    def _show_shadow(self, curves: list[ShadowCurve], current: float, on: bool = False) -> None:
        table = self.query_one("#shadow-table", DataTable)
        table.clear()
        for curve in curves:
            for row in _curve_rows(curve, current):
                table.add_row(*row)
        table.display = bool(curves)
        heading = self.query_one("#shadow-heading", Static)
        heading.display = bool(curves) or on
        heading.update(
            SHADOW_HEADING
            if curves
            else "Semantic cache in shadow mode: no near requests observed yet (it records "
            "what each threshold would have served once similar requests arrive)"
        )

    def _chart(self, stat: CallStat | None) -> None:
        label = self.query_one("#latency-label", Static)
        chart = self.query_one("#latency-chart", Sparkline)
        if stat is None or not stat.latencies:
            label.update(
                "latency: no calls yet"
                if stat is None
                else f"latency {stat.model}: no fresh calls ({stat.calls} calls: "
                f"{stat.cache_hits} from cache, {stat.errors} failed)"
            )
            chart.data = []
            return
        label.update(f"latency {stat.model} (last {len(stat.latencies[-200:])} calls) ")
        chart.data = list(stat.latencies[-200:])

    @on(DataTable.RowHighlighted, "#model-table")
    def _model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._snapshot is None or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        if 0 <= index < len(self._snapshot.by_model):
            self._chart(self._snapshot.by_model[index])

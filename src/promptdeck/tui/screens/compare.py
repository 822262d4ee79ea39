"""The Compare screen: one prompt, several models (or versions), answers side by side.

Pick a prompt, fill its variables, list the models (aliases and ensembles too) and
press ctrl+r. A thread worker plans the grid and runs the compare on its own event
loop; deltas and finished columns come back as messages, so each answer streams
into its own column with a live footer. Columns can be selected, hidden, moved and
widened; ``d`` highlights the word-level differences between the selected column
and the next; each column can be rated, which stores feedback on its completion.
The review list shows ensemble answers flagged ``requires_review``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import Worker, WorkerState

from promptdeck.core.compare import (
    ColumnDelta,
    ColumnDone,
    CompareColumn,
    CompareEvent,
    CompareResult,
    plan_compare,
    run_compare,
    word_diff,
)
from promptdeck.errors import UsageError
from promptdeck.store.feedback_repo import ReviewItem, add_feedback, completion_of, review_queue
from promptdeck.tui.screens.base import PaletteCommand, WorkbenchScreen
from promptdeck.tui.screens.compare_palette import compare_commands
from promptdeck.tui.screens.rate_dialog import RateDialog, RateRequest
from promptdeck.tui.widgets.compare_column import ColumnView

__all__ = ["CompareScreen"]

LOAD_WORKER = "compare-load"
RUN_WORKER = "compare-run"
RATE_WORKER = "compare-rate"
COMPACT_BELOW = 40
"""Terminal rows under which the setup rows lose their borders."""


@dataclass(frozen=True)
class CompareSetup:
    """What the pickers offer, loaded off the UI thread."""

    prompts: dict[str, list[str]]
    reviews: list[ReviewItem]


@dataclass(frozen=True)
class CompareOutcome:
    """A finished compare and the refreshed review list."""

    result: CompareResult
    reviews: list[ReviewItem]
    generation: int = 0


@dataclass(frozen=True)
class Rated:
    """A stored rating."""

    index: int
    label: str


def parse_models(text: str) -> list[str]:
    """Models from the models field: comma- or space-separated."""
    return [m for m in text.replace(",", " ").split() if m]


def parse_versions(name: str, text: str) -> list[str]:
    """Prompt references from a prompt name and ``1, 3`` (or labels); none: ``name``."""
    versions = [v for v in text.replace(",", " ").split() if v]
    return [f"{name}@{v}" for v in versions] or [name]


class CompareScreen(WorkbenchScreen):
    """Compare: prompt, variables and models above; one streaming column per answer."""

    CSS_PATH = "compare.tcss"
    AUTO_FOCUS = "#compare-grid"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run", id="compare.run"),
        Binding("left_square_bracket", "select(-1)", "Prev column", id="compare.prev"),
        Binding("right_square_bracket", "select(1)", "Next column", id="compare.next"),
        Binding("h", "hide", "Hide", id="compare.hide"),
        Binding("a", "show_all", "Show all", id="compare.show_all"),
        # Shown in the hint line and offered by the palette; kept out of the footer.
        Binding("less_than_sign", "move(-1)", "Move left", id="compare.move_left", show=False),
        Binding("greater_than_sign", "move(1)", "Move right", id="compare.move_right", show=False),
        Binding("w", "widen(1)", "Wider", id="compare.widen", show=False),
        Binding("s", "widen(-1)", "Narrower", id="compare.narrow", show=False),
        Binding("d", "diff", "Diff", id="compare.diff"),
        Binding("m", "members", "Members", id="compare.members", show=False),
        Binding("plus", "thumbs(1)", "👍", id="compare.thumbs_up", show=False),
        Binding("minus", "thumbs(-1)", "👎", id="compare.thumbs_down", show=False),
        Binding("r", "rate", "Rate", id="compare.rate"),
    ]

    class Planned(Message):
        """The grid is known: mount its columns."""

        def __init__(
            self, columns: list[CompareColumn], ensembles: set[str], generation: int = 0
        ) -> None:
            super().__init__()
            self.generation = generation
            self.columns = columns
            self.ensembles = ensembles

    class Progress(Message):
        """A delta or a finished column."""

        def __init__(self, event: CompareEvent, generation: int = 0) -> None:
            super().__init__()
            self.generation = generation
            self.event = event

    def __init__(self) -> None:
        super().__init__()
        self.views: list[ColumnView] = []
        self.hidden: set[int] = set()
        self.current = 0
        self.diff_on = False
        self.result: CompareResult | None = None
        self._started = 0.0
        self._generation = 0
        self._variables: dict[str, list[str]] = {}

    def compose_body(self) -> ComposeResult:
        with Vertical(id="compare-body"):
            with Horizontal(id="compare-setup"):
                yield Select[str]([], prompt="prompt", id="compare-prompt")
                yield Input(placeholder="versions, e.g. 1, 3", id="compare-versions")
                yield Input(
                    self.workbench.workspace.config.default_model,
                    placeholder="models, comma-separated",
                    id="compare-models",
                )
            yield Horizontal(id="compare-vars")
            yield Static(self._models_hint(), id="compare-hint")
            with HorizontalScroll(id="compare-grid"):
                yield Static(
                    "Pick a prompt, fill its variables, list the models (aliases and "
                    "ensembles too) and press ctrl+r: each answer streams into its own column.",
                    id="compare-empty",
                )
            yield Static("", id="compare-similarity")
            yield DataTable(id="compare-review", cursor_type="row")

    def _models_hint(self) -> str:
        config = self.workbench.workspace.config
        parts = []
        if config.models:
            parts.append("aliases: " + ", ".join(sorted(config.models)))
        if config.ensembles:
            parts.append("ensembles: " + ", ".join(sorted(config.ensembles)))
        keys = "ctrl+r run · [ ] column · < > move · w s width · d diff · + - r rate"
        return " · ".join([*parts, keys])

    @property
    def compact(self) -> bool:
        """True on short terminals: the pickers and inputs drop their borders."""
        return self.size.height < COMPACT_BELOW

    def on_resize(self) -> None:
        """Give the answer columns the room on a short terminal (80×24)."""
        compact = self.compact
        for widget in self.query("#compare-setup > *, .compare-var"):
            if isinstance(widget, Input | Select):
                widget.compact = compact

    def on_mount(self) -> None:
        review = self.query_one("#compare-review", DataTable)
        review.add_columns("Needs review", "Ensemble", "Prompt", "Agreement", "Decision")
        review.border_title = "Review queue"
        self.run_worker(
            self._load,
            name=LOAD_WORKER,
            group="compare",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> CompareSetup:
        from promptdeck.core.prompt_refs import resolve_prompt
        from promptdeck.store.prompts_repo import list_prompt_summaries

        workspace = self.workbench.workspace
        prompts: dict[str, list[str]] = {}
        with workspace.session() as session:
            summaries = list_prompt_summaries(session)
        if not summaries:  # opened straight at Compare: nothing synced yet
            workspace.sync()
        with workspace.session() as session:
            for summary in list_prompt_summaries(session):
                if summary.latest_version is None:
                    continue
                resolved = resolve_prompt(session, summary.name)
                prompts[summary.name] = list(resolved.file.variables)
            reviews = review_queue(session)
        return CompareSetup(prompts, reviews)

    # ------------------------------------------------------------- setup
    def _apply_setup(self, setup: CompareSetup) -> None:
        self._variables = setup.prompts
        select = self.query_one("#compare-prompt", Select)
        select.set_options([(name, name) for name in setup.prompts])
        if setup.prompts and select.is_blank():
            select.value = next(iter(setup.prompts))
        self._show_reviews(setup.reviews)

    @on(Select.Changed, "#compare-prompt")
    async def _prompt_changed(self, event: Select.Changed) -> None:
        box = self.query_one("#compare-vars", Horizontal)
        await box.remove_children()
        if not isinstance(event.value, str):
            return
        inputs = [
            Input(placeholder=name, id=f"var-{name}", classes="compare-var", compact=self.compact)
            for name in self._variables.get(event.value, [])
        ]
        await box.mount_all(inputs)

    def _show_reviews(self, reviews: list[ReviewItem]) -> None:
        table = self.query_one("#compare-review", DataTable)
        table.clear()
        for item in reviews:
            agreement = "-" if item.agreement is None else f"{item.agreement:.2f}"
            table.add_row(
                item.started_at.strftime("%Y-%m-%d %H:%M"),
                item.ensemble,
                item.prompt_name or "-",
                agreement,
                item.decision,
                key=item.trace_uid,
            )

    # ------------------------------------------------------------- running
    def action_run(self) -> None:
        """Render the prompt and send it to every model, versions × models."""
        prompt = self.query_one("#compare-prompt", Select).value
        if not isinstance(prompt, str):
            self.notify("Pick a prompt first", severity="warning")
            return
        refs = parse_versions(prompt, self.query_one("#compare-versions", Input).value)
        variables = {
            name: self.query_one(f"#var-{name}", Input).value
            for name in self._variables.get(prompt, [])
            if self.query_one(f"#var-{name}", Input).value
        }
        models = parse_models(self.query_one("#compare-models", Input).value)
        self.run_compare(refs, variables, models)

    def run_compare(self, refs: list[str], variables: dict[str, str], models: list[str]) -> None:
        """Start a compare (also used by tests and the command palette).

        A newer compare replaces a running one; messages from the older are ignored.
        """
        self._generation += 1
        generation = self._generation
        self.run_worker(
            lambda: self._run(refs, variables, models, generation),
            name=RUN_WORKER,
            group="compare",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _run(
        self, refs: list[str], variables: dict[str, str], models: list[str], generation: int
    ) -> CompareOutcome:
        from promptdeck.core.gateway.engine import Gateway

        workspace = self.workbench.workspace
        if not models:
            raise UsageError("no model to compare", "type one or more models, comma-separated")
        columns = plan_compare(workspace, refs, variables, models)
        self.post_message(self.Planned(columns, set(workspace.config.ensembles), generation))

        def report(event: CompareEvent) -> None:
            self.post_message(self.Progress(event, generation))

        async def go() -> CompareResult:
            gateway = Gateway.for_workspace(workspace)
            try:
                return await run_compare(gateway, columns, on_event=report)
            finally:
                await gateway.aclose()

        result = asyncio.run(go())
        with workspace.session() as session:
            reviews = review_queue(session)
        return CompareOutcome(result, reviews, generation)

    async def on_compare_screen_planned(self, message: Planned) -> None:
        if message.generation != self._generation:
            return
        grid = self.query_one("#compare-grid", HorizontalScroll)
        await grid.remove_children()
        self.views = [
            ColumnView(c.index, c.title, is_ensemble=c.model in message.ensembles)
            for c in message.columns
        ]
        self.hidden.clear()
        self.current = 0
        self.diff_on = False
        self.result = None
        self._started = time.perf_counter()
        self.query_one("#compare-similarity", Static).update("")
        await grid.mount_all(self.views)
        self._mark_current()

    def on_compare_screen_progress(self, message: Progress) -> None:
        event = message.event
        if message.generation != self._generation or not 0 <= event.index < len(self.views):
            return
        view = self.views[event.index]
        if isinstance(event, ColumnDelta):
            view.append(event.text, (time.perf_counter() - self._started) * 1000)
        elif isinstance(event, ColumnDone):
            view.finish(event.column)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.state != WorkerState.SUCCESS:
            return
        value: Any = event.worker.result
        if event.worker.name == LOAD_WORKER and isinstance(value, CompareSetup):
            self._apply_setup(value)
        elif (
            event.worker.name == RUN_WORKER
            and isinstance(value, CompareOutcome)
            and value.generation == self._generation
        ):
            self.result = value.result
            self._show_similarity(value.result)
            self._show_reviews(value.reviews)
            if value.result.all_failed:
                self.notify("Every model failed; see the columns", severity="error")
        elif event.worker.name == RATE_WORKER and isinstance(value, Rated):
            self.views[value.index].set_rating(value.label)
            self.notify(f"Stored {value.label} on column {value.index + 1}")

    def _show_similarity(self, result: CompareResult) -> None:
        matrix = result.similarity
        pairs = [
            f"{i + 1}↔{j + 1} {matrix[i][j]:.2f}"
            for i in range(len(matrix))
            for j in range(i + 1, len(matrix))
            if matrix[i][j] is not None
        ]
        text = "similarity  " + ("  ".join(pairs) if pairs else result.similarity_error or "-")
        self.query_one("#compare-similarity", Static).update(text)

    # ------------------------------------------------------------- columns
    def visible_columns(self) -> list[ColumnView]:
        """The columns not hidden, left to right."""
        grid = self.query_one("#compare-grid", HorizontalScroll)
        return [v for v in grid.query_children(ColumnView) if v.index not in self.hidden]

    def selected_column(self) -> ColumnView | None:
        """The selected visible column, if there is any."""
        visible = self.visible_columns()
        if not visible:
            return None
        self.current = min(max(self.current, 0), len(visible) - 1)
        return visible[self.current]

    def _mark_current(self) -> None:
        chosen = self.selected_column()
        for view in self.views:
            view.set_class(view is chosen, "-selected")

    def action_select(self, step: int) -> None:
        """Select the previous or next visible column."""
        self.current += step
        self._mark_current()

    def action_hide(self) -> None:
        """Hide the selected column."""
        view = self.selected_column()
        if view is None or len(self.visible_columns()) == 1:
            return
        self.hidden.add(view.index)
        view.display = False
        self._mark_current()

    def action_show_all(self) -> None:
        """Show every hidden column again."""
        for view in self.views:
            view.display = True
        self.hidden.clear()
        self._mark_current()

    def action_move(self, step: int) -> None:
        """Move the selected column left or right."""
        visible = self.visible_columns()
        view = self.selected_column()
        target = self.current + step
        if view is None or not 0 <= target < len(visible):
            return
        grid = self.query_one("#compare-grid", HorizontalScroll)
        other = visible[target]
        if step < 0:
            grid.move_child(view, before=other)
        else:
            grid.move_child(view, after=other)
        self.current = target
        self._mark_current()

    def action_widen(self, step: int) -> None:
        """Make the selected column wider or narrower."""
        view = self.selected_column()
        if view is not None:
            view.widen(step)

    def action_members(self) -> None:
        """Fold or unfold the members of the selected ensemble column."""
        view = self.selected_column()
        if view is not None and view.is_ensemble:
            view.toggle_members()

    def action_diff(self) -> None:
        """Highlight word-level differences between the selected column and the next."""
        visible = self.visible_columns()
        for view in self.views:
            view.show_diff(None, "a")
        self.diff_on = not self.diff_on and len(visible) >= 2
        if not self.diff_on:
            return
        a = visible[min(self.current, len(visible) - 2)]
        b = visible[visible.index(a) + 1]
        pieces = word_diff(a.text, b.text)
        a.show_diff(pieces, "a")
        b.show_diff(pieces, "b")

    # ------------------------------------------------------------- palette
    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Run once a prompt is picked; column commands once there are columns, as they apply."""
        return compare_commands(self)

    # ------------------------------------------------------------- rating
    def action_thumbs(self, thumbs: int) -> None:
        """Rate the selected column up or down."""
        self._rate(RateRequest(thumbs=thumbs))

    def action_rate(self) -> None:
        """Rate the selected column 1–5 with a comment."""
        view = self.selected_column()
        if view is None or view.result is None:
            self.notify("Nothing to rate yet", severity="warning")
            return
        self.app.push_screen(RateDialog(view.title), self._rated)

    def _rated(self, request: RateRequest | None) -> None:
        if request is not None:
            self._rate(request)

    def _rate(self, request: RateRequest) -> None:
        view = self.selected_column()
        if view is None or view.result is None:
            self.notify("Nothing to rate yet", severity="warning")
            return
        uid = view.result.result.trace_id
        index = view.index

        def store() -> Rated:
            with self.workbench.workspace.session() as session:
                completion_id = completion_of(session, uid)
                if completion_id is None:
                    raise UsageError("this answer is not stored yet", "rate it again in a moment")
                add_feedback(
                    session,
                    completion_id,
                    thumbs=request.thumbs,
                    rating=request.rating,
                    comment=request.comment,
                )
            return Rated(index, request.label)

        self.run_worker(
            store, name=RATE_WORKER, group="compare-rate", thread=True, exit_on_error=False
        )

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from promptdeck.errors import UsageError
from promptdeck.tui.screens.base import PaletteCommand
from promptdeck.tui.screens.compare_actions import RATE_WORKER, ColumnActions, Rated
from promptdeck.tui.screens.compare_palette import compare_commands
from promptdeck.tui.targets import CompareTarget
from promptdeck.tui.widgets.compare_column import ColumnView
from promptdeck.tui.widgets.compare_grid import CompareGrid, similarity_line
from promptdeck.tui.widgets.compare_setup import SetupRow, models_hint
from promptdeck.tui.widgets.review_queue import ReviewQueue
from promptdeck.tui.widgets.variable_editors import VariableEditors

if TYPE_CHECKING:
    from promptdeck.core.compare.columns import CompareColumn, CompareEvent, CompareResult
    from promptdeck.core.compare.overrides import ColumnOverride
    from promptdeck.core.prompts.files import VariableSpec
    from promptdeck.store.feedback_repo import ReviewItem

# The engine (pydantic, SQLAlchemy, the gateway) is imported in the workers that use
# it, so pressing 2 opens this screen at once, even while the workspace still loads.

__all__ = ["CompareScreen"]

LOAD_WORKER = "compare-load"
RUN_WORKER = "compare-run"
COMPACT_BELOW = 40
"""Terminal rows under which the setup rows lose their borders."""


@dataclass(frozen=True)
class CompareSetup:
    """What the pickers offer, loaded off the UI thread."""

    prompts: dict[str, dict[str, VariableSpec]]
    reviews: list[ReviewItem]


@dataclass(frozen=True)
class CompareOutcome:
    """A finished compare and the refreshed review list."""

    result: CompareResult
    reviews: list[ReviewItem]
    generation: int = 0


class CompareScreen(ColumnActions):
    """Compare: prompt, variables and models above; one streaming column per answer."""

    CSS_PATH = "compare.tcss"
    AUTO_FOCUS = "#compare-grid"
    # Show all and Rate leave the footer first when it has no room (80 columns); the
    # hint line, F1 and the palette (when they apply) still offer them.
    FOOTER_SPARE = ("show_all", "rate")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run", id="compare.run"),
        Binding("left_square_bracket", "select(-1)", "Prev", id="compare.prev"),
        Binding("right_square_bracket", "select(1)", "Next", id="compare.next"),
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
        Binding("p", "params", "Params", id="compare.params"),
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
        self.result: CompareResult | None = None
        self._started = 0.0
        self._generation = 0
        self._load_started = False
        self._variables: dict[str, dict[str, VariableSpec]] = {}
        self._pending_values: tuple[str, dict[str, str]] = ("", {})
        """Variables from the command line, for the inputs of that prompt once mounted."""

    def compose_body(self) -> ComposeResult:
        # The screen may open while the workspace does: its configuration fills in then.
        ready = self.workbench.workspace_ready
        config = self.workbench.workspace.config if ready else None
        with Vertical(id="compare-body"):
            yield SetupRow(config.default_model if config else "", id="compare-setup")
            yield VariableEditors(id="compare-vars")
            yield Static(models_hint(config), id="compare-hint")
            with CompareGrid(id="compare-grid"):
                yield Static(
                    "Pick a prompt, fill its variables, list the models (aliases and "
                    "ensembles too) and press ctrl+r: each answer streams into its own column.",
                    id="compare-empty",
                )
            yield Static("", id="compare-similarity")
            yield ReviewQueue(id="compare-review", cursor_type="row")

    @property
    def compact(self) -> bool:
        """True on short terminals: the pickers and inputs drop their borders."""
        return self.size.height < COMPACT_BELOW

    def on_resize(self) -> None:
        """Give the answer columns the room on a short terminal (80×24)."""
        compact = self.compact
        for widget in self.query("#compare-setup > *, .var-field"):
            if isinstance(widget, Input | Select | TextArea):
                widget.compact = compact

    def on_mount(self) -> None:
        self.watch(self.app, "workspace_state", self._workspace_state, init=True)

    def _workspace_state(self, state: str) -> None:
        """Load the pickers once the workspace is open (at once when it already is)."""
        if state != "open" or self._load_started:
            return
        self._load_started = True
        config = self.workbench.workspace.config
        self.query_one(SetupRow).default_model(config.default_model)
        self.query_one("#compare-hint", Static).update(models_hint(config))
        self.run_worker(
            self._load,
            name=LOAD_WORKER,
            group="compare",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> CompareSetup:
        from promptdeck.core.prompts.refs import resolve_prompt
        from promptdeck.store.feedback_repo import review_queue
        from promptdeck.store.prompts_repo import list_prompt_summaries

        workspace = self.workbench.workspace
        prompts: dict[str, dict[str, VariableSpec]] = {}
        workspace.sync()  # the files may have changed since the list was read
        with workspace.session() as session:
            for summary in list_prompt_summaries(session):
                if summary.latest_version is None:
                    continue
                resolved = resolve_prompt(session, summary.name)
                prompts[summary.name] = dict(resolved.file.variables)
            reviews = review_queue(session)
        return CompareSetup(prompts, reviews)

    # ------------------------------------------------------------- setup
    def _apply_setup(self, setup: CompareSetup) -> None:
        self._variables = setup.prompts
        row = self.query_one(SetupRow)
        row.offer(list(setup.prompts))
        self.query_one(ReviewQueue).show(setup.reviews)
        target = self.workbench.take_target("compare")
        if isinstance(target, CompareTarget):  # `promptdeck compare …` on a terminal
            self._pending_values = (target.prompt, dict(target.variables))
            row.fill(target.prompt, target.versions, list(target.models))
            self.column_overrides = dict(target.column_overrides)  # `p` edits them further
            if target.run:
                models = list(target.models) or row.models()
                self.run_compare(
                    list(target.refs),
                    target.variables,
                    models,
                    target.params,
                    self.column_overrides,
                )

    @on(Select.Changed, "#compare-prompt")
    async def _prompt_changed(self, event: Select.Changed) -> None:
        name = event.value if isinstance(event.value, str) else ""
        inputs = self.query_one(VariableEditors)
        await inputs.ask_for(name, self._variables.get(name), compact=self.compact)
        if self._pending_values[0] == event.value:
            inputs.fill(self._pending_values[1])
            self._pending_values = ("", {})
        if self.is_current:
            self.focus_useful()

    def on_screen_resume(self) -> None:
        """Entering Compare: focus the first empty variable (else the answers)."""
        self.focus_useful()

    def focus_useful(self) -> None:
        """Focus the first empty variable, else the answer grid."""
        empty = self.query_one(VariableEditors).first_empty()
        if empty is not None:
            empty.focus()
        else:
            self.focus_home()

    # ------------------------------------------------------------- running
    def action_run(self) -> None:
        """Render the prompt and send it to every model, versions × models."""
        setup = self.query_one(SetupRow)
        prompt = setup.prompt
        if prompt is None:
            self.notify("Pick a prompt first", severity="warning")
            return
        variables = self.query_one(VariableEditors).values()
        self.run_compare(setup.refs(prompt), variables, setup.models(), None, self.column_overrides)

    def run_compare(
        self,
        refs: list[str],
        variables: dict[str, str],
        models: list[str],
        params: Mapping[str, Any] | None = None,
        column_overrides: Mapping[int, ColumnOverride] | None = None,
    ) -> None:
        """Start a compare (also used by tests and the command palette).

        ``params`` go over every column's (``--param``); ``column_overrides`` over
        those, for their column only. A newer compare replaces a running one;
        messages from the older are ignored.
        """
        self._generation += 1
        generation = self._generation
        own = dict(column_overrides or {})
        self.run_worker(
            lambda: self._run(refs, variables, models, generation, params, own),
            name=RUN_WORKER,
            group="compare",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _run(
        self,
        refs: list[str],
        variables: dict[str, str],
        models: list[str],
        generation: int,
        params: Mapping[str, Any] | None = None,
        column_overrides: Mapping[int, ColumnOverride] | None = None,
    ) -> CompareOutcome:
        from promptdeck.core.compare.columns import plan_compare, run_compare
        from promptdeck.core.gateway.engine import Gateway
        from promptdeck.store.feedback_repo import review_queue

        workspace = self.workbench.workspace
        if not models:
            raise UsageError("no model to compare", "type one or more models, comma-separated")
        columns = plan_compare(workspace, refs, variables, models, params, column_overrides)
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
        self.result = None
        self._started = time.perf_counter()
        self.query_one("#compare-similarity", Static).update("")
        await self._grid.show_columns(message.columns, message.ensembles)

    def on_compare_screen_progress(self, message: Progress) -> None:
        if message.generation == self._generation:
            elapsed_ms = (time.perf_counter() - self._started) * 1000
            self._grid.progress(message.event, elapsed_ms)

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
            self.query_one(ReviewQueue).show(value.reviews)
            if value.result.all_failed:
                self.notify("Every model failed; see the columns", severity="error")
        elif event.worker.name == RATE_WORKER and isinstance(value, Rated):
            self.views[value.index].set_rating(value.label)
            self.notify(f"Stored {value.label} on column {value.index + 1}")

    def _show_similarity(self, result: CompareResult) -> None:
        self.query_one("#compare-similarity", Static).update(similarity_line(result))

    # ------------------------------------------------------------- columns
    @property
    def _grid(self) -> CompareGrid:
        return self.query_one("#compare-grid", CompareGrid)

    @property
    def prompt_picked(self) -> bool:
        """True once a prompt is chosen in the setup row."""
        return isinstance(self.query_one("#compare-prompt", Select).value, str)

    @property
    def views(self) -> list[ColumnView]:
        """Every column of the current compare, in the order they were planned."""
        return self._grid.views

    @property
    def hidden(self) -> set[int]:
        """The indexes of the hidden columns."""
        return self._grid.hidden

    @property
    def diff_on(self) -> bool:
        """True while the word diff is highlighted."""
        return self._grid.diff_on

    def visible_columns(self) -> list[ColumnView]:
        """The columns not hidden, left to right."""
        return self._grid.visible_columns()

    def selected_column(self) -> ColumnView | None:
        """The selected visible column, if there is any."""
        return self._grid.selected_column()

    def action_select(self, step: int) -> None:
        """Select the previous or next visible column."""
        self._grid.select(step)

    def action_hide(self) -> None:
        """Hide the selected column."""
        self._grid.hide()

    def action_show_all(self) -> None:
        """Show every hidden column again."""
        self._grid.show_all()

    def action_move(self, step: int) -> None:
        """Move the selected column left or right."""
        self._grid.move(step)

    def action_widen(self, step: int) -> None:
        """Make the selected column wider or narrower."""
        self._grid.widen(step)

    def action_members(self) -> None:
        """Fold or unfold the members of the selected ensemble column."""
        self._grid.toggle_members()

    def action_diff(self) -> None:
        """Highlight word-level differences between the selected column and the next."""
        self._grid.toggle_diff()

    # ------------------------------------------------------------- palette
    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Run once a prompt is picked; column commands once there are columns, as they apply."""
        return compare_commands(self)

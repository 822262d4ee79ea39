"""What the Compare screen does to one column: rate its answer, set its own parameters.

:class:`ColumnActions` is the Compare screen's base: rating stores feedback on the
column's completion; ``p`` opens :class:`ParamsDialog` for the selected column (the
first before any run), keeps the override by column index and runs the compare
again, so two temperatures of one model sit side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptdeck.errors import UsageError
from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.screens.rate_dialog import RateDialog, RateRequest

if TYPE_CHECKING:
    from promptdeck.core.compare.overrides import ColumnOverride
    from promptdeck.tui.widgets.compare_column import ColumnView

__all__ = ["RATE_WORKER", "ColumnActions", "Rated"]

RATE_WORKER = "compare-rate"


@dataclass(frozen=True)
class Rated:
    """A stored rating."""

    index: int
    label: str


class ColumnActions(WorkbenchScreen):
    """Rating and per-column parameters (the Compare screen supplies its columns)."""

    def __init__(self) -> None:
        super().__init__()
        self.column_overrides: dict[int, ColumnOverride] = {}
        """Each column's own parameters, by column index; kept across runs."""

    def selected_column(self) -> ColumnView | None:
        """The selected visible column, if there is any."""
        raise NotImplementedError

    def action_run(self) -> None:
        """Run the compare."""
        raise NotImplementedError

    # ------------------------------------------------------------- parameters
    def action_params(self) -> None:
        """Set the selected column's own parameters and system prompt, then run again."""
        view = self.selected_column()
        index = view.index if view is not None else 0
        title = view.title if view is not None else "column 1"
        current = self.column_overrides.get(index)
        from promptdeck.tui.screens.params_dialog import ParamsDialog

        self.app.push_screen(ParamsDialog(title, current), lambda o: self._set_params(index, o))

    def _set_params(self, index: int, override: ColumnOverride | None) -> None:
        if override is None:
            return
        if override.empty:
            self.column_overrides.pop(index, None)
        else:
            self.column_overrides[index] = override
        self.action_run()

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
            from promptdeck.store.feedback_repo import add_feedback, completion_of

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

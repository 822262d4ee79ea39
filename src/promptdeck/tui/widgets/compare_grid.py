"""The Compare screen's grid: its answer columns side by side, and how they are arranged.

The grid knows which column is selected, which are hidden, their order and width,
and whether the word diff is on; the screen's key bindings and command palette
call these methods, and the screen feeds each column its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import HorizontalScroll
from textual.widget import Widget

from promptdeck.tui.widgets.compare_column import ColumnView

if TYPE_CHECKING:
    from promptdeck.core.compare.columns import CompareColumn, CompareEvent, CompareResult

# The engine's modules (pydantic, SQLAlchemy) are imported where they are used, so the
# Compare screen can open while the workspace still loads them in its worker.

__all__ = ["CompareGrid", "similarity_line"]


class CompareGrid(HorizontalScroll):
    """The answer columns: one :class:`ColumnView` per prompt version × model."""

    def __init__(self, *children: Widget, id: str | None = None) -> None:
        super().__init__(*children, id=id)
        self.views: list[ColumnView] = []
        self.hidden: set[int] = set()
        self.current = 0
        self.diff_on = False

    async def show_columns(self, columns: list[CompareColumn], ensembles: set[str]) -> None:
        """Replace whatever the grid shows with one empty column per planned answer."""
        await self.remove_children()
        self.views = [
            ColumnView(c.index, c.title, is_ensemble=c.model in ensembles) for c in columns
        ]
        self.hidden.clear()
        self.current = 0
        self.diff_on = False
        await self.mount_all(self.views)
        self.mark_current()

    def progress(self, event: CompareEvent, elapsed_ms: float) -> None:
        """Stream a delta into its column, or show the column's finished answer."""
        if not 0 <= event.index < len(self.views):
            return
        from promptdeck.core.compare.columns import ColumnDelta, ColumnDone

        view = self.views[event.index]
        if isinstance(event, ColumnDelta):
            view.append(event.text, elapsed_ms)
        elif isinstance(event, ColumnDone):
            view.finish(event.column)

    def visible_columns(self) -> list[ColumnView]:
        """The columns not hidden, left to right."""
        return [v for v in self.query_children(ColumnView) if v.index not in self.hidden]

    def selected_column(self) -> ColumnView | None:
        """The selected visible column, if there is any."""
        visible = self.visible_columns()
        if not visible:
            return None
        self.current = min(max(self.current, 0), len(visible) - 1)
        return visible[self.current]

    def mark_current(self) -> None:
        """Outline the selected column."""
        chosen = self.selected_column()
        for view in self.views:
            view.set_class(view is chosen, "-selected")

    def select(self, step: int) -> None:
        """Select the previous or next visible column."""
        self.current += step
        self.mark_current()

    def hide(self) -> None:
        """Hide the selected column (unless it is the last one showing)."""
        view = self.selected_column()
        if view is None or len(self.visible_columns()) == 1:
            return
        self.hidden.add(view.index)
        view.display = False
        self.mark_current()

    def show_all(self) -> None:
        """Show every hidden column again."""
        for view in self.views:
            view.display = True
        self.hidden.clear()
        self.mark_current()

    def move(self, step: int) -> None:
        """Move the selected column left or right."""
        visible = self.visible_columns()
        view = self.selected_column()
        target = self.current + step
        if view is None or not 0 <= target < len(visible):
            return
        other = visible[target]
        if step < 0:
            self.move_child(view, before=other)
        else:
            self.move_child(view, after=other)
        self.current = target
        self.mark_current()

    def widen(self, step: int) -> None:
        """Make the selected column wider or narrower."""
        view = self.selected_column()
        if view is not None:
            view.widen(step)

    def toggle_members(self) -> None:
        """Fold or unfold the members of the selected ensemble column."""
        view = self.selected_column()
        if view is not None and view.is_ensemble:
            view.toggle_members()

    def toggle_diff(self) -> None:
        """Highlight word-level differences between the selected column and the next."""
        visible = self.visible_columns()
        for view in self.views:
            view.show_diff(None, "a")
        self.diff_on = not self.diff_on and len(visible) >= 2
        if not self.diff_on:
            return
        a = visible[min(self.current, len(visible) - 2)]
        b = visible[visible.index(a) + 1]
        from promptdeck.core.compare.columns import word_diff

        pieces = word_diff(a.text, b.text)
        a.show_diff(pieces, "a")
        b.show_diff(pieces, "b")


def similarity_line(result: CompareResult) -> str:
    """The line under the grid: every pair of answers with its similarity, or why none."""
    matrix = result.similarity
    pairs = [
        f"{i + 1}↔{j + 1} {matrix[i][j]:.2f}"
        for i in range(len(matrix))
        for j in range(i + 1, len(matrix))
        if matrix[i][j] is not None
    ]
    return "similarity  " + ("  ".join(pairs) if pairs else result.similarity_error or "-")

"""The Evals screen's results grid: cases × (prompt, model), each cell coloured by result.

The grid grades its selected cell from the keyboard (``+``, ``-``, ``1``-``5``,
``c``), posts :class:`ResultGrid.Graded` and moves on to the next cell; the screen
stores the grade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

if TYPE_CHECKING:
    from promptdeck.core.evals.browse import GridRow, RunGrid

__all__ = ["NARROW_BELOW", "STYLES", "ResultGrid", "column_header", "is_narrow", "result_row"]

STYLES = {
    "pass": ("✔", "green"),
    "fail": ("✘", "red"),
    "error": ("!", "bold red"),
    "flaky": ("~", "yellow"),
    "unchecked": ("–", "yellow"),
    "pending": ("…", "dim"),
}
"""Mark and style of each cell status."""


NARROW_BELOW = 100
"""Terminal columns under which the grid keeps the result cells whole: a short case
label and short column headers (the status line and the detail name them in full)."""


def is_narrow(width: int) -> bool:
    """True when a terminal this many columns wide gets the Evals screen's narrow layout."""
    return width < NARROW_BELOW


def column_header(column: str, index: int, narrow: bool) -> str:
    """A result column's header: ``prompt@v · model``, or ``1 model`` when narrow."""
    if not narrow:
        return column
    model = column.rsplit(" · ", 1)[-1].rsplit("/", 1)[-1]
    return f"{index + 1} {model[:12]}"


def result_row(row: GridRow, columns: list[str], label_chars: int = 40) -> list[Any]:
    """One case of the grid: its label, then a coloured cell per column (blank: not run)."""
    label = f"#{row.case_index} {row.description or row.case_key.split('#')[0]}"
    if len(label) > label_chars:
        label = label[: label_chars - 1] + "…"
    cells: list[Any] = [label]
    for column in columns:
        cell = row.cells.get(column)
        if cell is None:
            cells.append("")
            continue
        mark, style = STYLES[cell.status]
        total = cell.passed + cell.failed + cell.errors
        if cell.status == "unchecked":
            detail = "no assertions"
        else:
            detail = f"{cell.passed}/{total}" if total > 1 else f"{cell.score:.2f}"
        text = Text(f"{mark} {detail}", style=style)
        if cell.grade:
            text.append(f" {cell.grade}", style="bold")
        cells.append(text)
    return cells


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
        if self.row_count == 0:
            return
        if self.cursor_coordinate.column == 0:
            self.notify("Move to a result cell (→) to grade it", severity="warning")
            return
        self.post_message(self.Graded(self, grade, self.cursor_coordinate))
        row, column = self.cursor_coordinate
        if column + 1 < len(self.columns):
            self.move_cursor(column=column + 1)
        elif row + 1 < self.row_count:
            self.move_cursor(row=row + 1, column=1)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: RunGrid | None = None
        self._narrow = False

    def relayout(self) -> None:
        """Lay the shown grid out again if the terminal crossed the narrow width."""
        if self._shown is not None and is_narrow(self.app.size.width) != self._narrow:
            self.show_grid(self._shown, keep_cursor=True)

    def show_grid(self, grid: RunGrid, *, keep_cursor: bool = False) -> None:
        """Replace the columns and rows with a run's grid.

        Args:
            grid: The run's grid.
            keep_cursor: The same run again (after a grade, a finished run): keep the
                cursor where it was, as far as the grid still reaches.
        """
        kept = self.cursor_coordinate
        narrow = self._narrow = is_narrow(self.app.size.width)
        self._shown = grid
        self.clear(columns=True)
        self.add_column("Case", key="case")
        for i, column in enumerate(grid.columns):
            self.add_column(column_header(column, i, narrow), key=column)
        for row in grid.rows:
            self.add_row(*result_row(row, grid.columns, 16 if narrow else 40), key=row.case_key)
        if keep_cursor and self.row_count:
            self.move_cursor(
                row=min(kept.row, self.row_count - 1),
                column=min(kept.column, len(self.columns) - 1),
                animate=False,
            )

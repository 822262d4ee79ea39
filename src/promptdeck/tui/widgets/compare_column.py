"""One column of the Compare screen.

An answer streaming in, its live footer, and, for an ensemble, its members folded
beneath and the agreement matrix as a heat map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from promptdeck.core.compare.columns import ColumnResult

# The engine's modules (pydantic, SQLAlchemy) are imported where they are used, so the
# Compare screen can open while the workspace still loads them in its worker.

__all__ = ["ColumnView", "diff_text", "footer_text", "heat_map"]

WIDTHS = (1, 2, 3)
"""Relative widths a column can take (classes ``-w1`` … ``-w3`` in compare.tcss)."""


def footer_text(column: ColumnResult | None, chars: int, elapsed_ms: float | None) -> str:
    """The live footer: while streaming, characters and time; then every metric."""
    if column is None:
        if elapsed_ms is None:
            return "waiting…"
        return f"streaming · {chars} chars · {elapsed_ms:.0f} ms"
    from promptdeck.core.compare.columns import metric_lines

    return "\n".join(metric_lines(column))


def diff_text(pieces: Sequence[tuple[str, str]], side: str) -> Text:
    """One side of a word diff: ``a`` marks removed words, ``b`` added ones."""
    text = Text()
    for op, chunk in pieces:
        if op == "=":
            text.append(chunk)
        elif op == "-" and side == "a":
            text.append(chunk, style="bold white on dark_red")
        elif op == "+" and side == "b":
            text.append(chunk, style="bold black on green")
    return text


def _heat(value: float) -> str:
    if value >= 0.85:
        return "black on green"
    if value >= 0.6:
        return "black on yellow"
    return "white on dark_red"


def heat_map(names: Sequence[str], matrix: Sequence[Sequence[float | None]]) -> Text:
    """A small agreement matrix, each cell coloured by its similarity."""
    text = Text()
    if not matrix:
        return text
    text.append("·  " + "".join(f"{i + 1:^5}" for i in range(len(matrix))) + "\n", "dim")
    for i, row in enumerate(matrix):
        text.append(f"{i + 1:<3}", "dim")
        for value in row:
            text.append(" ")
            if value is None:
                text.append("  -  ")
            else:
                text.append(f"{value:4.2f}", style=_heat(value))
        text.append("\n")
    text.append(" ".join(f"{i + 1}={name}" for i, name in enumerate(names)), style="dim")
    return text


class ColumnView(Vertical):
    """An answer column. The screen feeds it deltas and the finished result."""

    def __init__(self, index: int, title: str, *, is_ensemble: bool = False) -> None:
        super().__init__(id=f"col-{index}", classes="compare-col -w1")
        self.index = index
        self.title = title
        self.is_ensemble = is_ensemble
        self.text = ""
        self.result: ColumnResult | None = None
        self.width_step = 1
        self.members_open = False
        self.rating = ""

    def compose(self) -> ComposeResult:
        yield Static(self.title, classes="col-title")
        with VerticalScroll(classes="col-scroll"):
            yield Static("", classes="col-body")
            yield Static("", classes="col-members")
        yield Static(footer_text(None, 0, None), classes="col-footer")
        yield Static("", classes="col-heat")

    def append(self, delta: str, elapsed_ms: float) -> None:
        """Add streamed text."""
        self.text += delta
        self.query_one(".col-body", Static).update(Text(self.text))
        self.query_one(".col-footer", Static).update(footer_text(None, len(self.text), elapsed_ms))

    def finish(self, result: ColumnResult) -> None:
        """Show the final answer, the metrics and, for an ensemble, its members."""
        self.result = result
        done = result.result.completion
        self.text = done.text if done.ok else ""
        body = Text(self.text) if done.ok else Text(f"error: {done.error}", style="bold red")
        self.query_one(".col-body", Static).update(body)
        self._refresh_footer()
        ens = result.ensemble
        if ens is not None:
            self.query_one(".col-heat", Static).update(heat_map(ens.answered, ens.matrix))
            self._refresh_members()

    def _refresh_footer(self) -> None:
        footer = footer_text(self.result, len(self.text), None)
        if self.rating:
            footer += f"\nrated {self.rating}"
        self.query_one(".col-footer", Static).update(footer)

    def _refresh_members(self) -> None:
        ens = self.result.ensemble if self.result is not None else None
        members = self.query_one(".col-members", Static)
        if ens is None:
            return
        if not self.members_open:
            members.update(Text(f"▸ {len(ens.members)} members (m to unfold)", style="dim"))
            return
        text = Text("▾ members\n", style="dim")
        for member in ens.members:
            done = member.result.completion
            mark = "✓" if member.member in ens.chosen else " "
            text.append(f"{mark} {member.member}", style="bold")
            text.append(f"  {done.latency_ms:.0f} ms · {done.usage.total_tokens} tok\n", "dim")
            text.append((done.text if done.ok else f"error: {done.error}") + "\n")
        text.append(ens.decision, style="italic")
        members.update(text)

    def toggle_members(self) -> None:
        """Fold or unfold the members of an ensemble column."""
        self.members_open = not self.members_open
        self._refresh_members()

    def show_diff(self, pieces: Sequence[tuple[str, str]] | None, side: str) -> None:
        """Highlight one side of a word diff (None: the plain answer again)."""
        body = self.query_one(".col-body", Static)
        if pieces is None:
            body.update(Text(self.text))
        else:
            body.update(diff_text(pieces, side))

    def set_rating(self, label: str) -> None:
        """Show the user's latest rating in the footer."""
        self.rating = label
        self._refresh_footer()

    def widen(self, step: int) -> None:
        """Make the column wider (or narrower) relative to the others."""
        new = min(max(self.width_step + step, WIDTHS[0]), WIDTHS[-1])
        self.remove_class(f"-w{self.width_step}")
        self.width_step = new
        self.add_class(f"-w{new}")

"""The Prompts screen's list: one row per prompt, and a summary line beneath.

The screen's worker loads a :class:`PromptsSnapshot`; the list shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from promptdeck.core.prompts.sync import SyncReport
    from promptdeck.store.prompts_repo import PromptSummary

__all__ = ["PromptList", "PromptsSnapshot", "list_summary", "prompt_row"]


@dataclass(frozen=True)
class PromptsSnapshot:
    """What the list shows, loaded off the UI thread."""

    report: SyncReport
    summaries: list[PromptSummary]
    contents: dict[str, str]


def prompt_row(s: PromptSummary) -> tuple[str, str, str, str, str, Text]:
    """One row of the list: name, latest version, labels, approved, pass rate, file status."""
    labels = ", ".join(f"{k}→v{v}" for k, v in s.labels.items() if k != "latest")
    if s.last_error:
        status = Text("error", style="bold red")
    elif not s.file_present:
        status = Text("no file", style="yellow")
    else:
        status = Text("ok", style="green")
    return (
        s.name,
        f"v{s.latest_version}" if s.latest_version else "-",
        labels or "-",
        ", ".join(f"v{v}" for v in s.approved) or "-",
        f"{s.pass_rate:.0%}" if s.pass_rate is not None else "-",
        status,
    )


def list_summary(prompts: int, errors: int) -> str:
    """The line under the list: how many prompts, and how many files did not load."""
    summary = f"{prompts} prompts"
    if errors:
        summary += f" · {errors} file{'s' if errors > 1 else ''} with errors"
    return summary


class PromptList(Vertical):
    """The prompt table (loading until the first snapshot) and its summary line."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="prompt-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="prompts-summary")

    def start_loading(self) -> None:
        """Add the columns and show the table loading until the first :meth:`show`.

        The screen calls this from its mount handler: by then the screen's auto focus
        has given the table the focus, which a loading widget could not take.
        """
        table = self.query_one("#prompt-table", DataTable)
        table.add_columns("Name", "Latest", "Labels", "Approved", "Pass", "File")
        table.loading = True

    def show(self, summaries: list[PromptSummary]) -> None:
        """Replace the rows with these prompts and stop loading."""
        table = self.query_one("#prompt-table", DataTable)
        table.clear()
        for s in summaries:
            table.add_row(*prompt_row(s), key=s.name)
        table.loading = False

    def move_to(self, name: str | None) -> None:
        """Put the cursor on the prompt called ``name``, if it is listed."""
        table = self.query_one("#prompt-table", DataTable)
        names = [str(key.value) for key in table.rows]
        if name in names:
            table.move_cursor(row=names.index(name))

    def show_summary(self, prompts: int, errors: int) -> None:
        """Say how many prompts there are and how many files did not load."""
        self.query_one("#prompts-summary", Static).update(list_summary(prompts, errors))

    def selected_name(self) -> str | None:
        """The prompt under the cursor, if any."""
        table = self.query_one("#prompt-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

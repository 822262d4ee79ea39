"""The Prompts screen's list: one row per prompt, and a summary line beneath.

The screen's worker loads a :class:`PromptsSnapshot`; the list shows it. Until the
workspace has opened and read the prompt files, the list shows the rows the database
stored last time (``report`` is None), and its summary line says the files are still
being read. Prompts
whose file was deleted from disk (their versions are kept) are not listed among
the live ones: they sit under an ``archived`` fold at the end, which Enter opens
and closes. The columns put name, latest version, labels and pass rate first, so
they still show on an 80-column terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from promptdeck.core.prompts.sync import SyncReport
    from promptdeck.store.prompt_summary import PromptSummary

__all__ = [
    "ARCHIVED_KEY",
    "SYNCING_NOTE",
    "PromptList",
    "PromptsSnapshot",
    "list_summary",
    "prompt_row",
]

ARCHIVED_KEY = "__archived__"
"""The fold row's key (no prompt name can start with ``_``)."""


@dataclass(frozen=True)
class PromptsSnapshot:
    """What the list shows, loaded off the UI thread.

    Attributes:
        report: What syncing the prompt files found; None for the list as the
            database stored it, read before the workspace opened (not synced yet).
        summaries: The rows.
        contents: Each prompt's newest stored content, by name.
    """

    report: SyncReport | None
    summaries: list[PromptSummary]
    contents: dict[str, str]

    @property
    def synced(self) -> bool:
        """True once the rows reflect the prompt files on disk."""
        return self.report is not None


NAME_CHARS = 24
LABELS_CHARS = 14
"""The widest a name and a labels cell get in the list (the detail shows them whole)."""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def prompt_row(s: PromptSummary) -> tuple[str | Text, str, str, str, str, Text]:
    """One row of the list: name, latest version, labels, pass rate, approved, file status."""
    labels = ", ".join(f"{k}→v{v}" for k, v in s.labels.items() if k != "latest")
    if not s.file_present:
        status = Text("archived", style="dim")
    elif s.last_error:
        status = Text("error", style="bold red")
    else:
        status = Text("ok", style="green")
    name = _cut(s.name, NAME_CHARS)
    return (
        name if s.file_present else Text(name, style="dim"),
        f"v{s.latest_version}" if s.latest_version else "-",
        _cut(labels, LABELS_CHARS) or "-",
        f"{s.pass_rate:.0%}" if s.pass_rate is not None else "-",
        ", ".join(f"v{v}" for v in s.approved) or "-",
        status,
    )


SYNCING_NOTE = "as stored · reading the files…"
"""Said under the list while it shows the stored rows, before the files are read."""


def list_summary(prompts: int, errors: int, archived: int = 0, *, synced: bool = True) -> str:
    """The line under the list: how many prompts, archived, files that did not load.

    Args:
        prompts: Rows listed, archived ones included.
        errors: Prompt files that did not load.
        archived: Prompts whose file was deleted.
        synced: False while the rows are the database's, the files not read yet.
    """
    summary = f"{prompts - archived} prompts"
    if archived:
        summary += f" · {archived} archived"
    if errors:
        summary += f" · {errors} file{'s' if errors > 1 else ''} with errors"
    if not synced:
        summary += f" · {SYNCING_NOTE}"
    return summary


class PromptList(Vertical):
    """The prompt table (loading until the first snapshot) and its summary line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.archived_open = False
        """True while the archived prompts are listed under their fold."""
        self._summaries: list[PromptSummary] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="prompt-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="prompts-summary")

    def start_loading(self) -> None:
        """Add the columns and show the table loading until the first :meth:`show`.

        The screen calls this from its mount handler: by then the screen's auto focus
        has given the table the focus, which a loading widget could not take.
        """
        table = self.query_one("#prompt-table", DataTable)
        table.add_columns("Name", "Latest", "Labels", "Pass", "Approved", "File")
        table.loading = True

    def show(self, summaries: list[PromptSummary]) -> None:
        """Replace the rows with these prompts (archived ones under their fold)."""
        self._summaries = list(summaries)
        table = self.query_one("#prompt-table", DataTable)
        table.clear()
        archived = [s for s in summaries if not s.file_present]
        for s in summaries:
            if s.file_present:
                table.add_row(*prompt_row(s), key=s.name)
        if archived:
            mark = "▾" if self.archived_open else "▸"
            fold = Text(f"{mark} archived ({len(archived)})", style="bold dim")
            hint = Text("file deleted · enter", style="dim")
            table.add_row(fold, "", "", "", "", hint, key=ARCHIVED_KEY)
            if self.archived_open:
                for s in archived:
                    table.add_row(*prompt_row(s), key=s.name)
        table.loading = False

    @property
    def archived_count(self) -> int:
        """How many listed prompts have no file any more."""
        return sum(1 for s in self._summaries if not s.file_present)

    @on(DataTable.RowSelected, "#prompt-table")
    def _fold(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value != ARCHIVED_KEY:
            return
        event.stop()
        self.archived_open = not self.archived_open
        self.show(self._summaries)
        self.move_to(ARCHIVED_KEY)

    def move_to(self, name: str | None) -> None:
        """Put the cursor on the prompt called ``name``, if it is listed."""
        table = self.query_one("#prompt-table", DataTable)
        names = [str(key.value) for key in table.rows]
        if name in names:
            table.move_cursor(row=names.index(name))

    def show_summary(self, prompts: int, errors: int, *, synced: bool = True) -> None:
        """Say how many prompts there are, archived, how many files did not load.

        ``synced=False`` says the rows are the stored ones, the files not read yet.
        """
        summary = list_summary(prompts, errors, self.archived_count, synced=synced)
        self.query_one("#prompts-summary", Static).update(summary)

    def selected_name(self) -> str | None:
        """The prompt under the cursor, if any."""
        table = self.query_one("#prompt-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value in (None, ARCHIVED_KEY) else str(row_key.value)

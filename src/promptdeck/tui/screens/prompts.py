"""The Prompts screen: the workspace's prompts, read from the database."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from promptdeck.core.sync import SyncReport
from promptdeck.store.prompts_repo import PromptSummary, latest_contents, list_prompt_summaries
from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.widgets.highlight import highlight_yaml

__all__ = ["PromptsScreen", "PromptsSnapshot"]

LOAD_WORKER = "prompts-load"


@dataclass(frozen=True)
class PromptsSnapshot:
    """What the screen shows, loaded off the UI thread."""

    report: SyncReport
    summaries: list[PromptSummary]
    contents: dict[str, str]


class PromptsScreen(WorkbenchScreen):
    """List of prompts with the selected prompt's latest version beside it."""

    BINDINGS = [
        Binding("r", "resync", "Resync", id="prompts.resync"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: PromptsSnapshot | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="prompts-body"):
            with Vertical(id="prompts-list-pane"):
                yield DataTable(id="prompt-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="prompts-summary")
            with Vertical(id="prompt-detail"):
                yield Static("", id="prompt-title")
                yield Static("", id="prompt-error")
                with VerticalScroll(id="prompt-source-scroll"):
                    yield Static("", id="prompt-source")

    def on_mount(self) -> None:
        table = self.query_one("#prompt-table", DataTable)
        table.add_columns("Name", "Latest", "Versions", "Labels", "File")
        table.loading = True
        self.action_resync()
        if self.workbench.watch_files:
            self.watch_prompt_files()

    def action_resync(self) -> None:
        """Sync the prompt files into the database and reload the list."""
        self.run_worker(
            self._load,
            name=LOAD_WORKER,
            group="prompts",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> PromptsSnapshot:
        workspace = self.workbench.workspace
        report = workspace.sync()
        with workspace.session() as session:
            summaries = list_prompt_summaries(session)
            contents = latest_contents(session)
        return PromptsSnapshot(report, summaries, contents)

    @work(group="prompts-watch", exclusive=True, exit_on_error=False)
    async def watch_prompt_files(self) -> None:
        """Resync whenever a prompt file changes on disk (debounced by watchfiles)."""
        from watchfiles import awatch

        folder = self.workbench.workspace.paths.prompts
        if not folder.is_dir():
            return
        async for _changes in awatch(folder, debounce=300, recursive=False):
            self.action_resync()

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.name == LOAD_WORKER and event.state == WorkerState.SUCCESS:
            result = event.worker.result
            if isinstance(result, PromptsSnapshot):
                self._show(result)

    def _show(self, snapshot: PromptsSnapshot) -> None:
        self._snapshot = snapshot
        table = self.query_one("#prompt-table", DataTable)
        selected = self._selected_name()
        table.clear()
        for s in snapshot.summaries:
            labels = ", ".join(f"{k}→v{v}" for k, v in s.labels.items() if k != "latest")
            if s.last_error:
                status = Text("error", style="bold red")
            elif not s.file_present:
                status = Text("no file", style="yellow")
            else:
                status = Text("ok", style="green")
            table.add_row(
                s.name,
                f"v{s.latest_version}" if s.latest_version else "-",
                str(s.versions),
                labels or "-",
                status,
                key=s.name,
            )
        table.loading = False
        names = [s.name for s in snapshot.summaries]
        if selected in names:
            table.move_cursor(row=names.index(selected))
        errors = len(snapshot.report.errors)
        summary = f"{len(names)} prompts"
        if errors:
            summary += f" · {errors} file{'s' if errors > 1 else ''} with errors"
        self.query_one("#prompts-summary", Static).update(summary)
        for error in snapshot.report.errors:
            self.notify(error.title, title="Prompt file not loaded", severity="warning")
        if not names:
            self.query_one("#prompt-title", Static).update(
                "No prompts yet: add a file to prompts/ (name.prompt.yaml)."
            )
        self._show_detail(self._selected_name())

    def _selected_name(self) -> str | None:
        table = self.query_one("#prompt-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    @on(DataTable.RowHighlighted, "#prompt-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(None if event.row_key.value is None else str(event.row_key.value))

    def _show_detail(self, name: str | None) -> None:
        if self._snapshot is None or name is None:
            return
        summary = next((s for s in self._snapshot.summaries if s.name == name), None)
        if summary is None:
            return
        version = f"v{summary.latest_version}" if summary.latest_version else "no version"
        title = Text.assemble(
            (summary.name, "bold"), " · ", version, " · ", (summary.source_path, "dim")
        )
        self.query_one("#prompt-title", Static).update(title)
        problem = summary.last_error or (
            "" if summary.file_present else "The file is gone; its versions are kept."
        )
        error = self.query_one("#prompt-error", Static)
        error.update(problem)
        error.display = bool(problem)
        content = self._snapshot.contents.get(name, "")
        self.query_one("#prompt-source", Static).update(
            highlight_yaml(content, self.app.theme_variables)
        )

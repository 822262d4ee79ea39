"""The Prompts screen: the list, and the selected prompt's version, editor, history, diff, lint.

The editor saves to the prompt file (a save makes a version); the diff compares any
two versions; lint runs live on the unsaved buffer. Label, approve and export from
keys or the command palette.

Everything that touches the disk or the database runs in thread workers; results
come back through worker state events, handled on the UI thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Select, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState

from promptdeck.tui.screens.base import PaletteCommand, WorkbenchScreen
from promptdeck.tui.screens.prompts_palette import prompts_commands
from promptdeck.tui.widgets.deferred import Deferred

if TYPE_CHECKING:
    from promptdeck.core.lint import Finding
    from promptdeck.core.registry_ops import PromptDetail
    from promptdeck.core.sync import SyncReport
    from promptdeck.store.prompts_repo import PromptSummary

# This screen paints first: the engine modules it uses (SQLAlchemy, pydantic, YAML,
# Pygments) are imported inside the workers and handlers that need them, so the
# shell is on screen before they load.

__all__ = ["PromptsScreen", "PromptsSnapshot"]

LOAD_WORKER = "prompts-load"
DETAIL_WORKER = "prompt-detail"
LINT_WORKER = "prompt-lint"
SAVE_WORKER = "prompt-save"
ACTION_WORKER = "prompt-action"


@dataclass(frozen=True)
class PromptsSnapshot:
    """What the list shows, loaded off the UI thread."""

    report: SyncReport
    summaries: list[PromptSummary]
    contents: dict[str, str]


@dataclass(frozen=True)
class DetailSnapshot:
    """One prompt's detail, loaded off the UI thread."""

    name: str
    detail: PromptDetail
    path: Path
    file_text: str | None
    digest: str | None


@dataclass(frozen=True)
class SaveResult:
    """A finished save."""

    name: str
    digest: str
    report: SyncReport


class PromptsScreen(WorkbenchScreen):
    """Prompts: list, latest version, editor, history, diff and lint."""

    BINDINGS = [
        Binding("r", "resync", "Resync", id="prompts.resync"),
        Binding("e", "show_tab('tab-edit')", "Edit", id="prompts.edit"),
        Binding("h", "show_tab('tab-history')", "History", id="prompts.history"),
        Binding("d", "show_tab('tab-diff')", "Diff", id="prompts.diff"),
        Binding("i", "show_tab('tab-lint')", "Lint", id="prompts.lint", show=False),
        Binding("v", "show_tab('tab-version')", "Version", id="prompts.version", show=False),
        Binding("l", "label", "Label", id="prompts.label"),
        Binding("a", "approve", "Approve", id="prompts.approve"),
        Binding("ctrl+s", "save", "Save", id="prompts.save", priority=True),
        Binding("escape", "leave_editor", "Leave editor", id="prompts.leave", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: PromptsSnapshot | None = None
        self._detail: DetailSnapshot | None = None
        self._editor_name: str | None = None
        self._editor_digest: str | None = None
        self._editor_path: Path | None = None
        self._dirty = False
        self._loaded_text = ""
        self._force_save = False
        self._lint_timer: Timer | None = None
        self.lint_pending = False
        self.selected: str | None = None

    # ----------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        history: DataTable[str] = DataTable(id="history-table", cursor_type="row")
        history.add_columns("Version", "Created (UTC)", "Hash", "Labels", "Approved")
        lint: DataTable[Text] = DataTable(id="lint-table", cursor_type="row")
        lint.add_columns("Severity", "Where", "Finding")
        with Horizontal(id="prompts-body"):
            with Vertical(id="prompts-list-pane"):
                yield DataTable(id="prompt-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="prompts-summary")
            with Vertical(id="prompt-detail"):
                yield Static("", id="prompt-title")
                yield Static("", id="prompt-error")
                with TabbedContent(id="prompt-tabs", initial="tab-version"):
                    with (
                        TabPane("Version", id="tab-version"),
                        VerticalScroll(id="prompt-source-scroll"),
                    ):
                        yield Static("", id="prompt-source")
                    # The hidden tabs mount once the list is on screen.
                    with (
                        TabPane("Edit", id="tab-edit"),
                        Deferred(Vertical(classes="tab-body")),
                    ):
                        yield TextArea(
                            "",
                            language="yaml",
                            id="editor",
                            show_line_numbers=True,
                            tab_behavior="indent",
                        )
                        yield Static("", id="editor-status")
                    with (
                        TabPane("History", id="tab-history"),
                        Deferred(Vertical(classes="tab-body")),
                    ):
                        yield history
                        yield Static("", id="label-moves")
                    with (
                        TabPane("Diff", id="tab-diff"),
                        Deferred(Vertical(classes="tab-body")),
                    ):
                        with Horizontal(id="diff-pickers"):
                            yield Select[int]([], prompt="old", id="diff-a", allow_blank=True)
                            yield Select[int]([], prompt="new", id="diff-b", allow_blank=True)
                        with VerticalScroll(id="diff-scroll"):
                            yield Static("", id="diff-view")
                    with (
                        TabPane("Lint", id="tab-lint"),
                        Deferred(Vertical(classes="tab-body")),
                    ):
                        yield lint

    async def _reveal_tabs(self) -> None:
        for deferred in list(self.query(Deferred)):
            await deferred.reveal()

    def _tabs_mounted(self) -> bool:
        """True once the lazily mounted tabs are in the DOM."""
        return bool(self.query("#lint-table")) and bool(self.query("#editor"))

    def on_mount(self) -> None:
        table = self.query_one("#prompt-table", DataTable)
        table.add_columns("Name", "Latest", "Labels", "Approved", "Pass", "File")
        table.loading = True
        self.query_one("#prompt-title", Static).update("Opening the workspace…")
        self.watch(self.app, "workspace_state", self._workspace_state, init=True)

    def _workspace_state(self, state: str) -> None:
        """Load the list once the app has opened the workspace (after the first paint)."""
        if state != "open" or self._snapshot is not None:
            return
        self.action_resync()
        if self.workbench.watch_files:
            self.watch_prompt_files()

    # ------------------------------------------------------------- the list
    def action_resync(self) -> None:
        """Sync the prompt files into the database and reload the list."""
        if not self.workbench.workspace_ready:
            return
        self.run_worker(
            self._load,
            name=LOAD_WORKER,
            group="prompts",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> PromptsSnapshot:
        from promptdeck.store.prompts_repo import latest_contents, list_prompt_summaries

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

    def _show(self, snapshot: PromptsSnapshot) -> None:
        self._snapshot = snapshot
        table = self.query_one("#prompt-table", DataTable)
        selected = self.selected or self._selected_name()
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
                labels or "-",
                ", ".join(f"v{v}" for v in s.approved) or "-",
                f"{s.pass_rate:.0%}" if s.pass_rate is not None else "-",
                status,
                key=s.name,
            )
        table.loading = False
        if not self._tabs_mounted():
            self.call_after_refresh(self._reveal_tabs)
        self.workbench.first_list_shown()
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
            return
        self._select(self._selected_name())

    def _selected_name(self) -> str | None:
        table = self.query_one("#prompt-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    @on(DataTable.RowHighlighted, "#prompt-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select(None if event.row_key.value is None else str(event.row_key.value))

    # ----------------------------------------------------------- the detail
    def _select(self, name: str | None) -> None:
        if self._snapshot is None or name is None:
            return
        self.selected = name
        summary = next((s for s in self._snapshot.summaries if s.name == name), None)
        if summary is None:
            return
        version = f"v{summary.latest_version}" if summary.latest_version else "no version"
        title = Text.assemble(
            (summary.name, "bold"), " · ", version, " · ", (summary.source_path, "dim")
        )
        self.query_one("#prompt-title", Static).update(title)
        gone = "" if summary.file_present else "The file is gone; its versions are kept."
        problem = summary.last_error or gone
        error = self.query_one("#prompt-error", Static)
        error.update(problem)
        error.display = bool(problem)
        content = self._snapshot.contents.get(name, "")
        from promptdeck.tui.widgets.highlight import highlight_yaml

        self.query_one("#prompt-source", Static).update(
            highlight_yaml(content, self.app.theme_variables)
        )
        path = self.workbench.workspace.paths.root / summary.source_path
        self.run_worker(
            lambda: self._load_detail(name, path),
            name=DETAIL_WORKER,
            group="detail",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load_detail(self, name: str, path: Path) -> DetailSnapshot:
        from promptdeck.core.editing import file_digest
        from promptdeck.core.registry_ops import prompt_detail

        workspace = self.workbench.workspace
        with workspace.session() as session:
            detail = prompt_detail(session, name)
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        return DetailSnapshot(name, detail, path, text, file_digest(path) if text else None)

    def _show_detail(self, snap: DetailSnapshot) -> None:
        if snap.name != self.selected:
            return
        self._detail = snap
        history = snap.detail.history
        table = self.query_one("#history-table", DataTable)
        table.clear()
        for v in history.versions:
            table.add_row(
                f"v{v.version}",
                v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                v.content_hash[:12],
                ", ".join(v.labels) or "-",
                "yes" if v.approved else "-",
                key=str(v.version),
            )
        moves = [
            f"{m.at.strftime('%Y-%m-%d %H:%M')}  {m.label}: "
            f"{'v' + str(m.from_version) if m.from_version else '(new)'} → v{m.to_version}"
            + (f"  “{m.note}”" if m.note else "")
            for m in history.moves
        ]
        self.query_one("#label-moves", Static).update(
            "Label moves\n" + "\n".join(moves) if moves else "No label moves yet."
        )
        options = [(f"v{n}", n) for n in sorted(snap.detail.contents)]
        pick_a = self.query_one("#diff-a", Select)
        pick_b = self.query_one("#diff-b", Select)
        pick_a.set_options(options)
        pick_b.set_options(options)
        if len(options) >= 2:
            pick_a.value, pick_b.value = options[-2][1], options[-1][1]
        self._render_diff()
        if not self._dirty:
            self._load_editor(snap)
        elif self._editor_name != snap.name:
            self.notify(
                f"Unsaved changes to {self._editor_name} stay in the editor: save (ctrl+s) first",
                severity="warning",
            )

    def _load_editor(self, snap: DetailSnapshot) -> None:
        editor = self.query_one("#editor", TextArea)
        self._editor_name = snap.name
        self._editor_path = snap.path
        self._editor_digest = snap.digest
        self._force_save = False
        self._loaded_text = snap.file_text or ""
        editor.load_text(self._loaded_text)
        editor.read_only = snap.file_text is None
        self._dirty = False
        self._schedule_lint()

    # ----------------------------------------------------------------- diff
    @on(Select.Changed, "#diff-a")
    @on(Select.Changed, "#diff-b")
    def _render_diff(self) -> None:
        view = self.query_one("#diff-view", Static)
        if self._detail is None:
            return
        contents = self._detail.detail.contents
        a = self.query_one("#diff-a", Select).value
        b = self.query_one("#diff-b", Select).value
        if len(contents) < 2:
            view.update("Only one version so far: edit and save to make another.")
            return
        if not isinstance(a, int) or not isinstance(b, int):
            view.update("Pick two versions.")
            return
        import difflib

        from promptdeck.tui.widgets.diff_view import render_diff

        name = self._detail.name
        diff = "".join(
            difflib.unified_diff(
                contents[a].splitlines(keepends=True),
                contents[b].splitlines(keepends=True),
                fromfile=f"{name}@{a}",
                tofile=f"{name}@{b}",
            )
        )
        view.update(
            render_diff(diff, self.app.theme_variables) if diff else f"v{a} and v{b} are the same."
        )

    # --------------------------------------------------------------- editor
    def action_show_tab(self, tab: str) -> None:
        """Show one of the detail tabs (and focus the editor for Edit)."""
        self.query_one("#prompt-tabs", TabbedContent).active = tab
        if tab == "tab-edit":
            for editor in self.query("#editor"):
                editor.focus()

    def action_leave_editor(self) -> None:
        """Move focus from the editor back to the list."""
        self.query_one("#prompt-table", DataTable).focus()

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        # Changed arrives after load_text too: dirty means "differs from what was loaded".
        self._dirty = self.query_one("#editor", TextArea).text != self._loaded_text
        self._schedule_lint()

    def _schedule_lint(self) -> None:
        if self._lint_timer is not None:
            self._lint_timer.stop()
        self.lint_pending = True
        self._lint_timer = self.set_timer(0.3, self._start_lint)

    def _start_lint(self) -> None:
        self.lint_pending = False
        if self._editor_path is None:
            return
        text = self.query_one("#editor", TextArea).text
        rel = self.workbench.workspace.paths.relative(self._editor_path)
        config = self.workbench.workspace.config

        def lint() -> list[Finding]:
            from promptdeck.core.lint import lint_text

            return lint_text(text, rel, config)

        self.run_worker(
            lint,
            name=LINT_WORKER,
            group="lint",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _show_lint(self, findings: list[Finding]) -> None:
        from promptdeck.core.lint import Severity

        table = self.query_one("#lint-table", DataTable)
        table.clear()
        colours = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
        for f in findings:
            table.add_row(Text(f.severity.value, style=colours[f.severity]), f.location, f.message)
        errors = sum(f.severity is Severity.ERROR for f in findings)
        warnings = sum(f.severity is Severity.WARNING for f in findings)
        state = "unsaved changes" if self._dirty else "saved"
        status = f"{state} · {errors} errors, {warnings} warnings"
        first = next((f for f in findings if f.severity is not Severity.INFO), None)
        if first is not None:
            status += f" · {first.location}: {first.message}"
        self.query_one("#editor-status", Static).update(status)

    def action_save(self) -> None:
        """Save the editor to the prompt file (a save makes a version)."""
        if self._editor_path is None or self._editor_name is None:
            self.notify("Select a prompt first", severity="warning")
            return
        if not self._dirty and not self._force_save:
            self.notify("Nothing to save", severity="information")
            return
        text = self.query_one("#editor", TextArea).text
        path, name, expected, force = (
            self._editor_path,
            self._editor_name,
            self._editor_digest,
            self._force_save,
        )

        def save() -> SaveResult:
            from promptdeck.core.editing import save_text

            digest = save_text(path, text, expected, force=force)
            return SaveResult(name, digest, self.workbench.workspace.sync())

        self.run_worker(
            save, name=SAVE_WORKER, group="save", thread=True, exclusive=True, exit_on_error=False
        )

    def _saved(self, result: SaveResult) -> None:
        self._loaded_text = self.query_one("#editor", TextArea).text
        self._dirty = False
        self._force_save = False
        self._editor_digest = result.digest
        made = [v for n, v in result.report.new_versions if n == result.name]
        problem = next(
            (e for e in result.report.errors if e.title.startswith(f"prompts/{result.name}.")), None
        )
        if problem is not None:
            self.notify(
                f"{problem.title} (last good version kept)",
                title="Saved, but not loadable",
                severity="warning",
            )
        elif made:
            self.notify(f"{result.name}: version {made[-1]}", title="Saved")
        else:
            self.notify(f"{result.name}: same content as an existing version", title="Saved")
        self.action_resync()

    # -------------------------------------------------- label and approve
    def _selected_ref(self) -> str | None:
        if self._detail is None or not self._detail.detail.history.versions:
            self.notify("This prompt has no version yet", severity="warning")
            return None
        version = self._detail.detail.history.versions[0].version
        tabs = self.query_one("#prompt-tabs", TabbedContent)
        history = self.query_one("#history-table", DataTable)
        if tabs.active == "tab-history" and history.row_count:
            row_key, _ = history.coordinate_to_cell_key(history.cursor_coordinate)
            version = int(str(row_key.value))
        return f"{self._detail.name}@{version}"

    def action_label(self) -> None:
        """Point a label at the selected version (History tab row, else the latest)."""
        ref = self._selected_ref()
        if ref is None:
            return

        from promptdeck.tui.screens.label_dialog import LabelDialog, LabelRequest

        def done(request: LabelRequest | None) -> None:
            if request is not None:
                from promptdeck.core.registry_ops import move_label

                self._act(
                    lambda session: move_label(session, request.ref, request.label, request.note)
                )

        self.app.push_screen(LabelDialog(ref), done)

    def action_approve(self) -> None:
        """Approve the selected version (History tab row, else the latest)."""
        ref = self._selected_ref()
        if ref is None:
            return
        from promptdeck.core.registry_ops import approve_version

        workspace = self.workbench.workspace
        self._act(lambda session: approve_version(session, workspace.paths, workspace.config, ref))

    def action_export(self) -> None:
        """Export the approved versions behind `production` to the workspace's registry."""
        if not self.workbench.workspace_ready:
            return
        from promptdeck.core.export import export_registry

        folder = self.workbench.workspace.paths.exports / "registry"
        self._act(lambda session: export_registry(session, folder, label="production"))

    def _act(self, action: Any) -> None:
        workspace = self.workbench.workspace

        def run() -> object:
            with workspace.session() as session:
                return action(session)

        self.run_worker(
            run,
            name=ACTION_WORKER,
            group="action",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _acted(self, result: object) -> None:
        from promptdeck.core.export import ExportReport
        from promptdeck.core.registry_ops import ApprovalInfo, LabelMove

        if isinstance(result, LabelMove):
            before = f"v{result.from_version}" if result.from_version else "(new)"
            self.notify(f"{result.label}: {before} → v{result.to_version}", title="Label moved")
        elif isinstance(result, ApprovalInfo):
            message = "approved" if result.created else "was already approved"
            self.notify(f"{result.name}@{result.version} {message}", title="Approval")
        elif isinstance(result, ExportReport):
            self.notify(
                f"{len(result.exported)} prompts to {result.folder} "
                f"({len(result.written)} files written)",
                title="Exported",
            )
        self.action_resync()

    def _when_tabs_mounted(self, show: Any, value: object) -> None:
        """Show a result now, or after the refresh that mounts the lazy tabs."""
        if self._tabs_mounted():
            show(value)
        else:
            self.call_after_refresh(self._when_tabs_mounted, show, value)

    # --------------------------------------------------------------- palette
    @property
    def has_detail(self) -> bool:
        """True once a prompt is selected and its detail is loaded."""
        return self._detail is not None

    @property
    def has_unsaved_edits(self) -> bool:
        """True when the editor holds something to save."""
        return self._dirty or self._force_save

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Resync and export always; the rest once a prompt is selected; save when edited."""
        return prompts_commands(self)

    # --------------------------------------------------------------- workers
    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.name == SAVE_WORKER:
            from promptdeck.core.editing import FileChangedError

            if isinstance(worker.error, FileChangedError):
                self._force_save = True
            return
        if event.state != WorkerState.SUCCESS:
            return
        result = worker.result
        if worker.name == LOAD_WORKER and isinstance(result, PromptsSnapshot):
            self._show(result)
        elif worker.name == DETAIL_WORKER and isinstance(result, DetailSnapshot):
            self._when_tabs_mounted(self._show_detail, result)
        elif worker.name == LINT_WORKER and isinstance(result, list):
            self._when_tabs_mounted(self._show_lint, result)
        elif worker.name == SAVE_WORKER and isinstance(result, SaveResult):
            self._saved(result)
        elif worker.name == ACTION_WORKER:
            self._acted(result)

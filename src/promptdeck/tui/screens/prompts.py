"""The Prompts screen: the list, and the selected prompt's version, editor, history, diff, lint.

The editor saves to the prompt file (a save makes a version); the diff compares any
two versions; lint runs live on the unsaved buffer. Label, approve (or revoke) and export from
keys or the command palette.

Everything that touches the disk or the database runs in thread workers; results
come back through worker state events, handled on the UI thread. The list first
shows the rows the database stored (read with ``sqlite3`` alone, while the workspace
opens: see :mod:`promptdeck.store.prompt_peek`), marked as not yet synced; the
synced list replaces it, and a notification names what the files changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from promptdeck.tui.screens.base import PaletteCommand
from promptdeck.tui.screens.new_prompt_dialog import NewPromptRequest
from promptdeck.tui.screens.prompts_editing import LINT_WORKER, SAVE_WORKER, PromptEditing
from promptdeck.tui.screens.prompts_palette import prompts_commands
from promptdeck.tui.screens.prompts_work import (
    SaveResult,
    load_detail,
    load_prompts,
    stored_prompts,
    with_session,
)
from promptdeck.tui.targets import ItemTarget
from promptdeck.tui.widgets.prompt_detail import DetailSnapshot, PromptDetail
from promptdeck.tui.widgets.prompt_list import ARCHIVED_KEY, PromptList, PromptsSnapshot
from promptdeck.tui.widgets.prompt_notices import action_notice, disk_changes_notice

# This screen paints first: the engine modules it uses (SQLAlchemy, pydantic, YAML,
# Pygments) are imported inside the workers (prompts_work) and handlers that need
# them, so the shell is on screen before they load.

__all__ = ["PromptsScreen", "PromptsSnapshot"]

LOAD_WORKER = "prompts-load"
STORED_WORKER = "prompts-stored"
DETAIL_WORKER = "prompt-detail"
ACTION_WORKER = "prompt-action"
NEW_WORKER = "prompt-new"


class PromptsScreen(PromptEditing):
    """Prompts: list, latest version, editor, history, diff and lint."""

    HOME = "#prompt-table"
    # Resync (files are watched), Diff and History (tabs of the detail) leave the
    # footer first when it has no room (80 columns); F1 and the palette list them.
    FOOTER_SPARE = ("resync", "show_tab('tab-diff')", "show_tab('tab-history')")
    BINDINGS = [
        Binding("r", "resync", "Resync", id="prompts.resync"),
        Binding("e", "show_tab('tab-edit')", "Edit", id="prompts.edit"),
        Binding("h", "show_tab('tab-history')", "History", id="prompts.history"),
        Binding("d", "show_tab('tab-diff')", "Diff", id="prompts.diff"),
        Binding("i", "show_tab('tab-lint')", "Lint", id="prompts.lint", show=False),
        Binding("v", "show_tab('tab-version')", "Version", id="prompts.version", show=False),
        Binding("l", "label", "Label", id="prompts.label"),
        Binding("a", "approve", "Approve", id="prompts.approve"),
        Binding("n", "new_prompt", "New", id="prompts.new"),
        Binding("ctrl+s", "save", "Save", id="prompts.save", priority=True),
        Binding("ctrl+r", "revert", "Revert", id="prompts.revert", priority=True, show=False),
        Binding("escape", "leave_editor", "Leave editor", id="prompts.leave", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._snapshot: PromptsSnapshot | None = None
        self._detail: DetailSnapshot | None = None
        self.selected: str | None = None

    # ----------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="prompts-body"):
            yield PromptList(id="prompts-list-pane")
            yield PromptDetail(id="prompt-detail")

    def on_mount(self) -> None:
        self.query_one(PromptList).start_loading()
        self.query_one(PromptDetail).show_title("Opening the workspace…")
        database = self.workbench.stored_database
        if database is not None and not self.workbench.workspace_ready:
            self.run_worker(
                lambda: stored_prompts(database),
                name=STORED_WORKER,
                group="prompts-stored",
                thread=True,
                exit_on_error=False,
            )
        self.watch(self.app, "workspace_state", self._workspace_state, init=True)

    @property
    def synced(self) -> bool:
        """True once the list shows the prompt files as read by the open workspace."""
        return self._snapshot is not None and self._snapshot.synced

    def _workspace_state(self, state: str) -> None:
        """Load the list once the app has opened the workspace (after the first paint)."""
        if not self.synced and state in ("failed", "opening"):
            failed = state == "failed"
            if self._snapshot is None:  # no stored list on screen either
                self.query_one("#prompt-table", DataTable).loading = not failed
            self.query_one(PromptDetail).show_title(
                "The workspace database cannot be used (see the notice): r tries again."
                if failed
                else "Opening the workspace…"
            )
        if state != "open" or self.synced:
            return
        self.action_resync()
        if self.workbench.watch_files:
            self.watch_prompt_files()

    # ------------------------------------------------------------- the list
    def action_resync(self) -> None:
        """Sync the prompt files into the database and reload the list."""
        if not self.workbench.workspace_ready:
            self.workbench.retry_opening()
            return
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: load_prompts(workspace),
            name=LOAD_WORKER,
            group="prompts",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    @work(group="prompts-watch", exclusive=True, exit_on_error=False)
    async def watch_prompt_files(self) -> None:
        """Resync whenever a prompt file changes on disk (debounced by watchfiles)."""
        from watchfiles import awatch

        folder = self.workbench.workspace.paths.prompts
        if not folder.is_dir():
            return
        async for _changes in awatch(folder, debounce=300, recursive=False):
            self.action_resync()

    def _show_stored(self, snapshot: PromptsSnapshot) -> None:
        """Show the list as the database stored it, until the synced one arrives.

        An empty stored list (a new workspace) leaves the list loading instead.
        """
        if self._snapshot is not None or not snapshot.summaries:
            return
        self._snapshot = snapshot
        prompts = self.query_one(PromptList)
        prompts.show(snapshot.summaries)
        prompts.show_summary(len(snapshot.summaries), 0, synced=False)
        self._select(prompts.selected_name())

    def _show(self, snapshot: PromptsSnapshot) -> None:
        stored = self._snapshot if self._snapshot is not None and not self.synced else None
        self._snapshot = snapshot
        prompts, detail = self.query_one(PromptList), self.query_one(PromptDetail)
        if stored is not None:
            changed = disk_changes_notice(stored.summaries, snapshot.summaries)
            if changed is not None:
                self.notify(changed, title="Prompt files changed since the list was stored")
        target = self.workbench.take_target("prompts")
        if isinstance(target, ItemTarget):  # `promptdeck prompts show NAME`
            if any(s.name == target.name for s in snapshot.summaries):
                self.selected = target.name
            else:
                self.notify(f"no prompt {target.name!r}", severity="error")
        selected = self.selected or prompts.selected_name()
        prompts.show(snapshot.summaries)
        if not detail.tabs_mounted():
            self.call_after_refresh(detail.reveal_tabs)
        self.workbench.first_list_shown()
        prompts.move_to(selected)
        errors = snapshot.report.errors if snapshot.report is not None else []
        prompts.show_summary(len(snapshot.summaries), len(errors))
        for error in errors:
            self.notify(error.title, title="Prompt file not loaded", severity="warning")
        if not snapshot.summaries:
            detail.show_title("No prompts yet: add a file to prompts/ (name.prompt.yaml).")
            return
        self._select(prompts.selected_name())

    @on(DataTable.RowHighlighted, "#prompt-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        self._select(None if key in (None, ARCHIVED_KEY) else str(key))

    # ----------------------------------------------------------- the detail
    def _select(self, name: str | None) -> None:
        if self._snapshot is None or name is None:
            return
        self.selected = name
        summary = next((s for s in self._snapshot.summaries if s.name == name), None)
        if summary is None:
            return
        content = self._snapshot.contents.get(name, "")
        self.query_one(PromptDetail).show_summary(summary, content)
        if not self.synced:  # versions, history and the editor wait for the workspace
            return
        workspace = self.workbench.workspace
        path = workspace.paths.root / summary.source_path
        self.run_worker(
            lambda: load_detail(workspace, name, path),
            name=DETAIL_WORKER,
            group="detail",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _show_detail(self, snap: DetailSnapshot) -> None:
        if snap.name != self.selected:
            return
        self._detail = snap
        self.query_one(PromptDetail).show_detail(snap)
        self.load_editor(snap)

    def action_show_tab(self, tab: str) -> None:
        """Show one of the detail tabs (and focus the editor for Edit)."""
        self.query_one(PromptDetail).show_tab(tab)

    # ------------------------------------------------------------ new prompt
    def action_new_prompt(self) -> None:
        """Create a new prompt file: from the starter template or a copy of this prompt."""
        if not self._wait_for_sync():
            return
        from promptdeck.tui.screens.new_prompt_dialog import NewPromptDialog

        self.app.push_screen(NewPromptDialog(self.selected), self._create_prompt)

    def _create_prompt(self, request: NewPromptRequest | None) -> None:
        if request is None:
            return
        workspace, detail = self.workbench.workspace, self._detail
        source = detail if detail is not None and detail.name == request.copy_of else None
        contents = self._snapshot.contents if self._snapshot is not None else {}

        def create() -> str:
            from promptdeck.core.prompts.files import PROMPT_SUFFIX, parse_prompt
            from promptdeck.core.prompts.new import new_prompt_file

            prompt, text = None, ""
            if request.copy_of is not None:
                text = (source.file_text if source else None) or contents.get(request.copy_of, "")
                prompt = parse_prompt(text, f"{request.copy_of}{PROMPT_SUFFIX}").file
            new_prompt_file(workspace.paths.prompts, request.name, prompt, text)
            return request.name

        self.run_worker(
            create, name=NEW_WORKER, group="prompt-new", thread=True, exit_on_error=False
        )

    # -------------------------------------------------- label and approve
    def _wait_for_sync(self) -> bool:
        """True once the workspace is open and the list synced; else say to wait."""
        if self.synced:
            return True
        self.notify("The workspace is still opening; try again in a moment", severity="warning")
        return False

    def _selected_ref(self) -> str | None:
        if not self._wait_for_sync():
            return None
        if self._detail is None or not self._detail.detail.history.versions:
            self.notify("This prompt has no version yet", severity="warning")
            return None
        return self.query_one(PromptDetail).selected_ref(self._detail)

    def action_label(self) -> None:
        """Point a label at the selected version (History tab row, else the latest)."""
        ref = self._selected_ref()
        if ref is None:
            return

        from promptdeck.tui.screens.label_dialog import LabelDialog, LabelRequest

        def done(request: LabelRequest | None) -> None:
            if request is not None:
                from promptdeck.core.prompts.versions import move_label

                self._act(
                    lambda session: move_label(session, request.ref, request.label, request.note)
                )

        self.app.push_screen(LabelDialog(ref), done)

    def action_approve(self) -> None:
        """Approve the selected version (History tab row, else the latest)."""
        ref = self._selected_ref()
        if ref is None:
            return
        from promptdeck.core.prompts.versions import approve_version

        workspace = self.workbench.workspace
        self._act(lambda session: approve_version(session, workspace.paths, workspace.config, ref))

    def action_unapprove(self) -> None:
        """Revoke the approval of the selected version (History tab row, else the latest)."""
        ref = self._selected_ref()
        if ref is not None:
            from promptdeck.core.prompts.versions import unapprove_version

            self._act(lambda session: unapprove_version(session, ref))

    def action_export(self) -> None:
        """Export the approved versions behind `production` to the workspace's registry."""
        if not self.workbench.workspace_ready:
            return
        from promptdeck.core.prompts.export import export_registry

        folder = self.workbench.workspace.paths.exports / "registry"
        self._act(lambda session: export_registry(session, folder, label="production"))

    def _act(self, action: Any) -> None:
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: with_session(workspace, action),
            name=ACTION_WORKER,
            group="action",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _acted(self, result: object) -> None:
        notice = action_notice(result)
        if notice is not None:
            self.notify(notice[0], title=notice[1])
        self.action_resync()

    def _when_tabs_mounted(self, show: Any, value: object) -> None:
        """Show a result now, or after the refresh that mounts the lazy tabs."""
        if self.query_one(PromptDetail).tabs_mounted():
            show(value)
        else:
            self.call_after_refresh(self._when_tabs_mounted, show, value)

    # --------------------------------------------------------------- palette
    @property
    def has_detail(self) -> bool:
        """True once a prompt is selected and its detail is loaded."""
        return self._detail is not None

    @property
    def selection_approved(self) -> bool:
        """True when the version label and approve act on (see ``_selected_ref``) is approved."""
        snap = self._detail
        if snap is None or not snap.detail.history.versions:
            return False
        return self.query_one(PromptDetail).selected_approved(snap)

    @property
    def has_unsaved_edits(self) -> bool:
        """True when the editor holds something to save."""
        return self._buffer.has_unsaved_edits

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Resync and export always; the rest once a prompt is selected; save when edited."""
        return prompts_commands(self)

    # --------------------------------------------------------------- workers
    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.name == SAVE_WORKER:
            from promptdeck.core.prompts.editing import FileChangedError

            if isinstance(worker.error, FileChangedError):
                self.save_refused()
            return
        if event.state != WorkerState.SUCCESS:
            return
        result = worker.result
        if worker.name == LOAD_WORKER and isinstance(result, PromptsSnapshot):
            self._show(result)
        elif worker.name == STORED_WORKER and isinstance(result, PromptsSnapshot):
            self._show_stored(result)
        elif worker.name == DETAIL_WORKER and isinstance(result, DetailSnapshot):
            self._when_tabs_mounted(self._show_detail, result)
        elif worker.name == LINT_WORKER and isinstance(result, list):
            self._when_tabs_mounted(self.show_lint, result)
        elif worker.name == SAVE_WORKER and isinstance(result, SaveResult):
            self.saved(result)
        elif worker.name == ACTION_WORKER:
            self._acted(result)
        elif worker.name == NEW_WORKER and isinstance(result, str):
            self.selected = result
            self.notify(f"Created prompts/{result}.prompt.yaml (e to edit it)")
            self.action_resync()

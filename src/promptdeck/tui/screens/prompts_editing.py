"""The Prompts screen's editor: live lint, save, revert, and a file changed under edits.

:class:`PromptEditing` is the part of the Prompts screen that owns the editor
buffer; the screen (``prompts.py``) composes the list and the detail around it.

- ctrl+s saves in a worker; the editor keeps its cursor and scroll (the reload
  that follows a save finds the same text and leaves the editor alone).
- ctrl+r (and the palette) reverts to the file as last saved.
- When the file changes on disk while the editor holds unsaved edits (another
  editor, a ``git checkout``), a dialog offers: keep mine, take theirs, or a diff.
- Lint runs 0.3 s after the last keystroke, in a worker, through the same engine
  function as ``promptdeck prompts lint`` (tokens, secrets and PII included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.timer import Timer
from textual.widgets import DataTable, TextArea

from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.screens.prompts_work import SaveResult, save_prompt
from promptdeck.tui.widgets.prompt_detail import DetailSnapshot, PromptDetail
from promptdeck.tui.widgets.prompt_notices import save_notice
from promptdeck.tui.widgets.prompt_panes import EditorBuffer, EditorPane

if TYPE_CHECKING:
    from promptdeck.core.prompts.lint import Finding
    from promptdeck.tui.screens.conflict_dialog import Choice

__all__ = ["LINT_WORKER", "SAVE_WORKER", "PromptEditing"]

LINT_WORKER = "prompt-lint"
SAVE_WORKER = "prompt-save"
LINT_DELAY = 0.3
"""Seconds after the last keystroke before the buffer is linted."""


class PromptEditing(WorkbenchScreen):
    """The editor half of the Prompts screen (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = EditorBuffer()
        self._lint_timer: Timer | None = None
        self._asked_about: str | None = None
        """The on-disk digest the conflict dialog was last shown for (asked once each)."""
        self._findings: list[Finding] = []
        self.lint_pending = False

    def action_resync(self) -> None:
        """Sync the prompt files and reload (the screen implements it)."""
        raise NotImplementedError

    # ------------------------------------------------------------- loading
    def load_editor(self, snap: DetailSnapshot) -> None:
        """Put a loaded prompt file in the editor, unless that would drop unsaved edits."""
        buffer = self._buffer
        if not buffer.dirty:
            same = buffer.name == snap.name
            buffer.load(snap.name, snap.path, snap.digest, snap.file_text)
            self.query_one(EditorPane).load(snap.file_text, keep_place=same)
            self.schedule_lint()
        elif buffer.name != snap.name:
            self.notify(
                f"Unsaved changes to {buffer.name} stay in the editor: save (ctrl+s) first",
                severity="warning",
            )
        elif snap.digest != buffer.digest and snap.digest != self._asked_about:
            self._asked_about = snap.digest
            self._ask_about_conflict(snap)

    def _ask_about_conflict(self, snap: DetailSnapshot) -> None:
        from promptdeck.tui.screens.conflict_dialog import ConflictDialog

        rel = self.workbench.workspace.paths.relative(snap.path)
        mine = self.query_one(EditorPane).text

        def resolve(choice: Choice | None) -> None:
            if choice == "theirs":
                self._buffer.load(snap.name, snap.path, snap.digest, snap.file_text)
                self.query_one(EditorPane).load(snap.file_text, keep_place=True)
                self.schedule_lint()
                self.notify(f"Took {rel} as it is on disk", title="Edits dropped")
            elif choice == "mine":
                self._buffer.force_save = True
                self.notify(f"ctrl+s overwrites {rel} with the editor's text", title="Kept")
            self._show_status()

        self.app.push_screen(ConflictDialog(rel, mine, snap.file_text or ""), resolve)

    # ------------------------------------------------------------- editing
    def action_leave_editor(self) -> None:
        """Move focus from the editor back to the list."""
        self.query_one("#prompt-table", DataTable).focus()

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        # Changed arrives after load_text too: dirty means "differs from what was loaded".
        self._buffer.edited(self.query_one(EditorPane).text)
        self.schedule_lint()

    def action_revert(self) -> None:
        """Discard the editor's unsaved edits: back to the file as last saved."""
        buffer = self._buffer
        if not buffer.has_unsaved_edits:
            self.notify("Nothing to revert", severity="information")
            return
        buffer.dirty = buffer.force_save = False
        self.query_one(EditorPane).load(buffer.loaded_text, keep_place=True)
        self.notify(f"{buffer.name}: back to the saved file", title="Reverted")
        self.action_resync()  # the file may have changed meanwhile

    # ---------------------------------------------------------------- lint
    def schedule_lint(self) -> None:
        """Lint the buffer once the typing pauses."""
        if self._lint_timer is not None:
            self._lint_timer.stop()
        self.lint_pending = True
        self._lint_timer = self.set_timer(LINT_DELAY, self._start_lint)

    def _start_lint(self) -> None:
        self.lint_pending = False
        path = self._buffer.path
        if path is None:
            return
        text = self.query_one(EditorPane).text
        workspace = self.workbench.workspace
        stem = path.name.removesuffix(".prompt.yaml")

        def lint() -> list[Finding]:
            from promptdeck.core.prompts.lint import lint_prompts

            found = lint_prompts(workspace.paths, workspace.config, [stem], buffers={stem: text})
            return found.get(stem, [])

        self.run_worker(
            lint, name=LINT_WORKER, group="lint", thread=True, exclusive=True, exit_on_error=False
        )

    def show_lint(self, findings: list[Finding]) -> None:
        """Fill the Lint tab and the editor's status line."""
        self._findings = findings
        self._show_status()

    def _show_status(self) -> None:
        if not self.query_one(PromptDetail).tabs_mounted():
            return
        self.query_one(PromptDetail).show_lint(
            self._findings, dirty=self._buffer.dirty, conflict=self._buffer.force_save
        )

    # ---------------------------------------------------------------- save
    def action_save(self) -> None:
        """Save the editor to the prompt file (a save makes a version)."""
        buffer = self._buffer
        if buffer.path is None or buffer.name is None:
            self.notify("Select a prompt first", severity="warning")
            return
        if not buffer.has_unsaved_edits:
            self.notify("Nothing to save", severity="information")
            return
        text = self.query_one(EditorPane).text
        path, name, expected, force = buffer.path, buffer.name, buffer.digest, buffer.force_save
        workspace = self.workbench.workspace
        self.run_worker(
            lambda: save_prompt(workspace, name, path, text, expected, force=force),
            name=SAVE_WORKER,
            group="save",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def saved(self, result: SaveResult) -> None:
        """A save finished: the buffer is clean, the list reloads."""
        self._buffer.saved(self.query_one(EditorPane).text, result.digest)
        self._asked_about = None
        message, title, severity = save_notice(result.name, result.report)
        self.notify(message, title=title, severity=severity)
        self._show_status()
        self.action_resync()

    def save_refused(self) -> None:
        """The file changed on disk since it was loaded: reload it, which asks what to do."""
        self._asked_about = None
        self.action_resync()

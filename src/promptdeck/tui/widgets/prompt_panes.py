"""The Prompts screen's hidden tabs: the editor, the history, the diff and the lint findings.

Each pane is a tab's body, mounted once the prompt list is on screen (see
:class:`~promptdeck.tui.widgets.deferred.Deferred`). The screen feeds the panes what
its workers load; the panes only present it. Their children are made when the pane
is, so they are ready the moment the screen reveals the tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Select, Static, TextArea

if TYPE_CHECKING:
    from promptdeck.core.prompts.lint import Finding
    from promptdeck.core.prompts.versions import PromptHistory

# The engine modules (prompts.lint, prompts.versions) are imported where they are needed, so
# importing this module costs the first paint nothing.

__all__ = ["DiffPane", "EditorBuffer", "EditorPane", "HistoryPane", "LintPane"]


@dataclass
class EditorBuffer:
    """What the editor holds: which prompt file, its digest when loaded, whether it changed.

    The screen keeps it, not the pane: the pane mounts late, and the command palette
    asks about unsaved edits from the start. ``force_save`` is set when a save found
    the file changed on disk; saving again then overwrites it.
    """

    name: str | None = None
    path: Path | None = None
    digest: str | None = None
    loaded_text: str = ""
    dirty: bool = False
    force_save: bool = False

    @property
    def has_unsaved_edits(self) -> bool:
        """True when there is something to save."""
        return self.dirty or self.force_save

    def load(self, name: str, path: Path, digest: str | None, text: str | None) -> None:
        """Start over with a prompt file as read from disk (``None``: unreadable)."""
        self.name, self.path, self.digest = name, path, digest
        self.force_save = False
        self.loaded_text = text or ""
        self.dirty = False

    def edited(self, text: str) -> None:
        """Note the editor's text after a change (dirty: it differs from what was loaded)."""
        self.dirty = text != self.loaded_text

    def saved(self, text: str, digest: str) -> None:
        """Note a finished save of ``text``, now on disk with ``digest``."""
        self.loaded_text = text
        self.dirty = False
        self.force_save = False
        self.digest = digest


class EditorPane(Vertical):
    """The Edit tab: the prompt file in a YAML editor, its lint status below."""

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(
            TextArea(
                "",
                language="yaml",
                id="editor",
                show_line_numbers=True,
                tab_behavior="indent",
            ),
            Static("", id="editor-status"),
            classes=classes,
        )

    @property
    def text(self) -> str:
        """What the editor holds now."""
        return self.query_one("#editor", TextArea).text

    def load(self, text: str | None, *, keep_place: bool = False) -> None:
        """Load a prompt file's text; ``None`` (an unreadable file) leaves it read-only.

        The same text as the editor holds changes nothing (after a save, the cursor and
        scroll stay); with ``keep_place``, other text keeps the cursor (moved back inside
        the text when it got shorter) and the scroll where they were.
        """
        editor = self.query_one("#editor", TextArea)
        editor.read_only = text is None
        new = text or ""
        if editor.text == new:
            return
        row, column = editor.cursor_location
        scroll_x, scroll_y = editor.scroll_offset
        editor.load_text(new)
        if keep_place:
            row = min(row, editor.document.line_count - 1)
            column = min(column, len(editor.document.get_line(row)))
            editor.cursor_location = (row, column)
            editor.scroll_to(scroll_x, scroll_y, animate=False, immediate=True)

    def show_status(self, findings: list[Finding], *, dirty: bool, conflict: bool = False) -> None:
        """Show whether the buffer is saved, the lint counts and the first problem."""
        from promptdeck.core.prompts.lint import Severity

        errors = sum(f.severity is Severity.ERROR for f in findings)
        warnings = sum(f.severity is Severity.WARNING for f in findings)
        state = "unsaved changes" if dirty else "saved"
        if conflict:
            state = "unsaved changes; the file changed on disk (ctrl+s overwrites it)"
        status = f"{state} · {errors} errors, {warnings} warnings"
        first = next((f for f in findings if f.severity is not Severity.INFO), None)
        if first is not None:
            status += f" · {first.location}: {first.message}"
        self.query_one("#editor-status", Static).update(status)


class HistoryPane(Vertical):
    """The History tab: versions, label moves, approvals and revocations.

    Each version shows who recorded it, its labels, approval and newest note; each
    move, approval and revocation who made it and why.
    """

    def __init__(self, *, classes: str | None = None) -> None:
        history: DataTable[str] = DataTable(id="history-table", cursor_type="row")
        history.add_columns(
            "Version", "Created (UTC)", "Author", "Hash", "Labels", "Approved", "Note"
        )
        super().__init__(history, Static("", id="label-moves"), classes=classes)

    def show(self, history: PromptHistory) -> None:
        """Fill the table (newest version first) and list the label moves and approvals."""
        table = self.query_one("#history-table", DataTable)
        table.clear()
        for v in history.versions:
            table.add_row(
                f"v{v.version}",
                v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                v.author or "-",
                v.content_hash[:12],
                ", ".join(v.labels) or "-",
                "yes" if v.approved else "-",
                v.note or "-",
                key=str(v.version),
            )

        def by(who: str | None) -> str:
            return f"  by {who}" if who else ""

        def note(text: str | None) -> str:
            return f"  “{text}”" if text else ""

        moves = [
            f"{m.at.strftime('%Y-%m-%d %H:%M')}  {m.label}: "
            f"{'v' + str(m.from_version) if m.from_version else '(new)'} → v{m.to_version}"
            f"{by(m.by)}{note(m.note)}"
            for m in history.moves
        ]
        approvals = [
            f"{a.at.strftime('%Y-%m-%d %H:%M')}  v{a.version} {a.action}{by(a.by)}{note(a.note)}"
            + (f"  evidence: {', '.join(a.evidence)}" if a.evidence else "")
            for a in history.approvals
        ]
        text = "Label moves\n" + "\n".join(moves) if moves else "No label moves yet."
        if approvals:
            text += "\n\nApprovals\n" + "\n".join(approvals)
        self.query_one("#label-moves", Static).update(text)

    def cursor_version(self) -> int | None:
        """The version under the table's cursor, if the table has rows."""
        table = self.query_one("#history-table", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(str(row_key.value))


class DiffPane(Vertical):
    """The Diff tab: two version pickers and the unified diff between them."""

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(
            Horizontal(
                Select[int]([], prompt="old", id="diff-a", allow_blank=True),
                Select[int]([], prompt="new", id="diff-b", allow_blank=True),
                id="diff-pickers",
            ),
            VerticalScroll(Static("", id="diff-view"), id="diff-scroll"),
            classes=classes,
        )
        self._prompt = ""
        self._contents: dict[int, str] | None = None

    def show_versions(self, name: str, contents: dict[int, str]) -> None:
        """Offer a prompt's versions, pick the last two and show their diff."""
        self._prompt, self._contents = name, contents
        options = [(f"v{n}", n) for n in sorted(contents)]
        pick_a = self.query_one("#diff-a", Select)
        pick_b = self.query_one("#diff-b", Select)
        pick_a.set_options(options)
        pick_b.set_options(options)
        if len(options) >= 2:
            pick_a.value, pick_b.value = options[-2][1], options[-1][1]
        self.show_diff()

    @on(Select.Changed, "#diff-a")
    @on(Select.Changed, "#diff-b")
    def show_diff(self) -> None:
        """Show the diff between the two picked versions (or say why there is none)."""
        view = self.query_one("#diff-view", Static)
        if self._contents is None:
            return
        contents = self._contents
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

        name = self._prompt
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


def _short_location(location: str) -> str:
    """``prompts/x.prompt.yaml:12`` as ``line 12`` (the tab shows that file); others whole."""
    path, _, line = location.rpartition(":")
    if path.startswith("prompts/") and line.isdigit():
        return f"line {line}"
    return "file" if location.startswith("prompts/") and location.endswith(".yaml") else location


SEVERITY_WIDTH = len("Severity")


class LintPane(Vertical):
    """The Lint tab: the findings on the editor's buffer, one row each.

    The Finding column takes the width left by the others and its text wraps, so a
    long finding is never cut off.
    """

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(DataTable(id="lint-table", cursor_type="row"), classes=classes)
        self._findings: list[Finding] = []

    def show(self, findings: list[Finding]) -> None:
        """Replace the rows with these findings, the severity coloured."""
        from promptdeck.core.prompts.lint import Severity

        self._findings = findings
        table: DataTable[Text | str] = self.query_one("#lint-table", DataTable)
        table.clear(columns=True)
        places = [_short_location(f.location) for f in findings]
        width = table.size.width or self.size.width
        where = min(max([5, *(len(p) for p in places)]), max(5, width // 4))
        # Three columns with a cell of padding each side (6) and a scrollbar (2); the
        # severity column is as wide as its header ("warning" is one cell narrower).
        left = max(12, width - SEVERITY_WIDTH - where - 8)
        table.add_column("Severity", width=SEVERITY_WIDTH)
        table.add_column("Where", width=where)
        table.add_column("Finding", width=left)
        colours = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
        for f, place in zip(findings, places, strict=True):
            table.add_row(
                Text(f.severity.value, style=colours[f.severity]),
                Text(place, overflow="fold"),
                Text(f"{f.message} [{f.rule}]"),
                height=None,
            )

    def on_resize(self) -> None:
        """Refit the Finding column to the new width."""
        if self._findings:
            self.show(self._findings)

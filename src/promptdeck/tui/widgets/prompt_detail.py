"""The Prompts screen's detail: the selected prompt's title, file problem and tabs.

The Version tab shows the latest version's YAML from the first paint; the Edit,
History, Diff and Lint panes (:mod:`~promptdeck.tui.widgets.prompt_panes`) wait in
:class:`~promptdeck.tui.widgets.deferred.Deferred` until the screen reveals them,
once the prompt list is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from promptdeck.tui.widgets.deferred import Deferred
from promptdeck.tui.widgets.prompt_panes import DiffPane, EditorPane, HistoryPane, LintPane

if TYPE_CHECKING:
    from promptdeck.core.prompts.lint import Finding
    from promptdeck.core.prompts.versions import PromptDetail as PromptDetailRecord
    from promptdeck.store.prompts_repo import PromptSummary

__all__ = ["DetailSnapshot", "PromptDetail", "prompt_problem", "prompt_title"]


@dataclass(frozen=True)
class DetailSnapshot:
    """One prompt's detail, loaded off the UI thread."""

    name: str
    detail: PromptDetailRecord
    path: Path
    file_text: str | None
    digest: str | None


def prompt_title(summary: PromptSummary) -> Text:
    """The detail's title: name, latest version and the file it comes from."""
    version = f"v{summary.latest_version}" if summary.latest_version else "no version"
    return Text.assemble(
        (summary.name, "bold"), " · ", version, " · ", (summary.source_path, "dim")
    )


def prompt_problem(summary: PromptSummary) -> str:
    """What is wrong with the prompt's file, or ``""``."""
    gone = "" if summary.file_present else "The file is gone; its versions are kept."
    return summary.last_error or gone


class PromptDetail(Vertical):
    """Title, file problem and the Version, Edit, History, Diff and Lint tabs."""

    def compose(self) -> ComposeResult:
        yield Static("", id="prompt-title")
        yield Static("", id="prompt-error")
        with TabbedContent(id="prompt-tabs", initial="tab-version"):
            with (
                TabPane("Version", id="tab-version"),
                VerticalScroll(id="prompt-source-scroll"),
            ):
                yield Static("", id="prompt-source")
            # The hidden tabs mount once the list is on screen.
            with TabPane("Edit", id="tab-edit"):
                yield Deferred(EditorPane(classes="tab-body"))
            with TabPane("History", id="tab-history"):
                yield Deferred(HistoryPane(classes="tab-body"))
            with TabPane("Diff", id="tab-diff"):
                yield Deferred(DiffPane(classes="tab-body"))
            with TabPane("Lint", id="tab-lint"):
                yield Deferred(LintPane(classes="tab-body"))

    async def reveal_tabs(self) -> None:
        """Mount the hidden tabs' panes."""
        for deferred in list(self.query(Deferred)):
            await deferred.reveal()

    def tabs_mounted(self) -> bool:
        """True once the lazily mounted tabs are in the DOM."""
        return bool(self.query("#lint-table")) and bool(self.query("#editor"))

    @property
    def active_tab(self) -> str:
        """The id of the tab on show."""
        return self.query_one("#prompt-tabs", TabbedContent).active

    def selected_ref(self, snap: DetailSnapshot) -> str:
        """``name@version`` of the History tab's row when that tab shows, else of the latest.

        Args:
            snap: The shown detail; it has at least one version.
        """
        version = snap.detail.history.versions[0].version
        if self.active_tab == "tab-history":
            version = self.query_one(HistoryPane).cursor_version() or version
        return f"{snap.name}@{version}"

    def selected_approved(self, snap: DetailSnapshot) -> bool:
        """True when the version :meth:`selected_ref` names is approved."""
        version = int(self.selected_ref(snap).rsplit("@", 1)[1])
        return any(v.approved and v.version == version for v in snap.detail.history.versions)

    def show_tab(self, tab: str) -> None:
        """Show one of the tabs (and focus the editor for Edit)."""
        self.query_one("#prompt-tabs", TabbedContent).active = tab
        if tab == "tab-edit":
            for editor in self.query("#editor"):
                editor.focus()

    def show_title(self, title: str | Text) -> None:
        """Put a title (or a message, while there is no prompt to show) at the top."""
        self.query_one("#prompt-title", Static).update(title)

    def show_summary(self, summary: PromptSummary, content: str) -> None:
        """Show a prompt's title, any problem with its file and its latest YAML."""
        self.show_title(prompt_title(summary))
        problem = prompt_problem(summary)
        error = self.query_one("#prompt-error", Static)
        error.update(problem)
        error.display = bool(problem)
        from promptdeck.tui.widgets.highlight import highlight_yaml

        self.query_one("#prompt-source", Static).update(
            highlight_yaml(content, self.app.theme_variables)
        )

    def show_detail(self, snap: DetailSnapshot) -> None:
        """Fill the History and Diff tabs from a loaded detail (the tabs are mounted)."""
        self.query_one(HistoryPane).show(snap.detail.history)
        self.query_one(DiffPane).show_versions(snap.name, snap.detail.contents)

    def show_lint(self, findings: list[Finding], *, dirty: bool, conflict: bool = False) -> None:
        """Fill the Lint tab and the editor's status line (the tabs are mounted)."""
        self.query_one(LintPane).show(findings)
        self.query_one(EditorPane).show_status(findings, dirty=dirty, conflict=conflict)

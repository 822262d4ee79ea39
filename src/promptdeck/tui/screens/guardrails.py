"""The Guardrails screen: try the scanners as you type, guard suites, recent blocked calls.

- a text box (focus it with ``/``): 0.3 s after the last keystroke, a thread worker runs
  the input scanners and the verdicts show with the flagged spans highlighted;
- the workspace's guard suites with their last precision, recall and false-positive
  rate (``s`` runs the selected one);
- recent calls a guardrail blocked or redacted, with their trace ids (``enter`` opens
  the Traces screen).

The embedding model is loaded by a worker when the screen mounts; nothing slow runs
on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Static, TextArea
from textual.worker import Worker, WorkerState

from promptdeck.core.guardrails.base import Verdict
from promptdeck.core.guardrails.history import GuardedCall, recent_guarded_calls
from promptdeck.core.guardrails.suites import GuardReport, last_reports
from promptdeck.tui.screens.base import WorkbenchScreen

__all__ = ["GuardrailsScreen", "GuardrailsSnapshot"]

SCAN_WORKER = "guard-scan"
LOAD_WORKER = "guard-load"
SUITE_WORKER = "guard-suite"
WARM_WORKER = "guard-warm"
DEBOUNCE = 0.3
SPAN_STYLES = {
    "pii": "bold black on yellow",
    "secrets": "bold white on magenta",
    "injection": "bold white on red",
    "jailbreak": "bold white on dark_orange3",
    "toxicity": "bold white on purple",
}


@dataclass(frozen=True)
class GuardrailsSnapshot:
    """The suites and recent decisions, read off the UI thread."""

    suites: dict[str, GuardReport | None]
    recent: list[GuardedCall]


@dataclass(frozen=True)
class ScanResult:
    """The verdicts of one text."""

    text: str
    verdicts: dict[str, Verdict]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_verdicts(result: ScanResult) -> Text:
    """The text with flagged spans highlighted, then one line per scanner."""
    out = Text(result.text)
    for name, verdict in result.verdicts.items():
        if verdict.flagged:
            style = SPAN_STYLES.get(name, "reverse")
            for span in verdict.spans:
                out.stylize(style, span.start, span.end)
    out.append("\n\n")
    for name, verdict in result.verdicts.items():
        badge = (" FLAGGED ", "bold white on red") if verdict.flagged else (" ok ", "green")
        out.append(f"{name:<10} ")
        out.append(*badge)
        out.append(f" {verdict.score:.2f}  ", style="bold" if verdict.flagged else "dim")
        kinds = ", ".join(dict.fromkeys(s.type for s in verdict.spans))
        detail = verdict.reason + (f" [{kinds}]" if kinds and kinds not in verdict.reason else "")
        out.append(detail + "\n", style="" if verdict.flagged else "dim")
    return out


class GuardrailsScreen(WorkbenchScreen):
    """Guardrails: scanners as you type, guard suites, recent blocked or redacted calls."""

    CSS_PATH = "guardrails.tcss"
    AUTO_FOCUS = "#guard-suites"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_text", "Type text", id="guardrails.type"),
        Binding("escape", "leave_text", "Leave text", id="guardrails.leave", show=False),
        Binding("s", "run_suite", "Run suite", id="guardrails.suite"),
        Binding("r", "refresh", "Refresh", id="guardrails.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._debounce: Timer | None = None
        self._snapshot: GuardrailsSnapshot | None = None
        self.scan_pending = False

    @property
    def lint_pending(self) -> bool:
        """True while a keystroke waits for its debounced scan (tests wait on it)."""
        return self.scan_pending

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="guard-body"):
            with Vertical(id="guard-left"):
                yield Static("Scanners  (/ type · esc leave)", classes="guard-heading")
                yield TextArea(id="guard-text", tab_behavior="focus", soft_wrap=True)
                yield Static("Type or paste a prompt to scan it.", id="guard-verdicts")
            with Vertical(id="guard-right"):
                yield Static("Guard suites  (s run)", classes="guard-heading")
                yield DataTable(id="guard-suites", cursor_type="row", zebra_stripes=True)
                yield Static("Blocked or redacted calls", classes="guard-heading")
                yield DataTable(id="guard-recent", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#guard-suites", DataTable).add_columns(
            "Suite", "Scanner", "Precision", "Recall", "F1", "FPR", "Last run"
        )
        self.query_one("#guard-recent", DataTable).add_columns(
            "When", "Prompt", "Side", "Scanner", "Outcome", "Trace"
        )
        self.run_worker(
            self._warm, name=WARM_WORKER, group="guard-warm", thread=True, exit_on_error=False
        )
        self.action_refresh()

    @staticmethod
    def _warm() -> None:
        from promptdeck.core.guardrails.classifier_model import embed_for_classifiers

        embed_for_classifiers(["warm up"])

    # -- actions -------------------------------------------------------------------

    def action_focus_text(self) -> None:
        """Move the focus to the text box."""
        self.query_one("#guard-text", TextArea).focus()

    def action_leave_text(self) -> None:
        """Leave the text box (number keys switch screens again)."""
        self.query_one("#guard-suites", DataTable).focus()

    def action_refresh(self) -> None:
        """Reload the guard suites and recent decisions."""
        self.run_worker(
            self._load,
            name=LOAD_WORKER,
            group="guard-load",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load(self) -> GuardrailsSnapshot:
        workspace = self.workbench.workspace
        suites = last_reports(workspace.paths)
        with workspace.session() as session:
            recent = recent_guarded_calls(session, limit=50)
        return GuardrailsSnapshot(suites, recent)

    def action_run_suite(self) -> None:
        """Run the selected guard suite."""
        table = self.query_one("#guard-suites", DataTable)
        if table.row_count == 0:
            self.notify("No guard suites: add suites/<name>.guard.yaml", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        name = key.split("\x00", 1)[0]
        self.notify(f"Running guard suite {name}…")
        self.run_worker(
            lambda: self._run_suite(name),
            name=SUITE_WORKER,
            group="guard-suite",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _run_suite(self, name: str) -> GuardReport:
        from promptdeck.core.guardrails.suites import (
            find_guard_suite,
            load_guard_suite,
            run_guard_suite,
            save_report,
        )

        paths = self.workbench.workspace.paths
        report = run_guard_suite(load_guard_suite(find_guard_suite(paths, name), paths))
        save_report(paths, report)
        return report

    # -- scanning as you type -------------------------------------------------------

    @on(TextArea.Changed, "#guard-text")
    def _text_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.scan_pending = True
        self._debounce = self.set_timer(DEBOUNCE, self._scan)

    def _scan(self) -> None:
        self.scan_pending = False
        text = self.query_one("#guard-text", TextArea).text
        if not text.strip():
            self.query_one("#guard-verdicts", Static).update("Type or paste a prompt to scan it.")
            return
        self.run_worker(
            lambda: self._scan_text(text),
            name=SCAN_WORKER,
            group="guard-scan",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    @staticmethod
    def _scan_text(text: str) -> ScanResult:
        from promptdeck.core.guardrails.base import scan_texts

        return ScanResult(text, scan_texts([text])[0])

    # -- results --------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR:
            if worker.name == WARM_WORKER:
                self.notify(f"guardrail model unavailable: {worker.error}", severity="error")
            else:
                self.workbench.report_worker_error(worker)
            return
        if event.state is not WorkerState.SUCCESS:
            return
        result = worker.result
        if worker.name == SCAN_WORKER and isinstance(result, ScanResult):
            if result.text == self.query_one("#guard-text", TextArea).text:
                self.query_one("#guard-verdicts", Static).update(render_verdicts(result))
        elif worker.name == LOAD_WORKER and isinstance(result, GuardrailsSnapshot):
            self._show(result)
        elif worker.name == SUITE_WORKER and isinstance(result, GuardReport):
            verdict = "passed" if result.passed else "failed: " + "; ".join(result.failures)
            self.notify(
                f"Guard suite {result.suite} {verdict}",
                severity="information" if result.passed else "warning",
            )
            self.action_refresh()

    def _show(self, snapshot: GuardrailsSnapshot) -> None:
        self._snapshot = snapshot
        suites = self.query_one("#guard-suites", DataTable)
        cursor = suites.cursor_row
        suites.clear()
        for name, report in snapshot.suites.items():
            if report is None:
                suites.add_row(name, "-", "-", "-", "-", "-", "never run", key=name)
                continue
            when = report.finished_at[:16].replace("T", " ")
            for i, m in enumerate(report.scanners):
                style = "" if report.passed else "red"
                suites.add_row(
                    Text(name if i == 0 else "", style=style),
                    m.scanner,
                    _rate(m.precision),
                    _rate(m.recall),
                    _rate(m.f1),
                    _rate(report.fpr) if i == 0 else "",
                    when if i == 0 else "",
                    key=f"{name}\x00{m.scanner}",
                )
        if suites.row_count:
            suites.move_cursor(row=min(cursor, suites.row_count - 1))
        recent = self.query_one("#guard-recent", DataTable)
        recent.clear()
        for call in snapshot.recent:
            style = "bold red" if call.outcome == "blocked" else "yellow"
            recent.add_row(
                call.started_at.strftime("%m-%d %H:%M"),
                call.prompt or "-",
                call.side,
                call.scanner,
                Text(call.outcome, style=style),
                call.trace_id[:12],
                key=call.trace_id,
            )

    @on(DataTable.RowSelected, "#guard-recent")
    def _open_trace(self, event: DataTable.RowSelected) -> None:
        trace_id = event.row_key.value
        if trace_id:
            self.notify(f"trace {trace_id} (promptdeck traces show {trace_id[:12]})")
            self.app.switch_mode("traces")

"""How ``eval`` (and ``eval --wait``) ends: its reports, then its exit code.

Exit codes: 0 everything passed, 1 a case failed or regressed, 3 the run could not be
carried out (stopped, every call failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from promptdeck.cli.output import echo_warning
from promptdeck.errors import CheckFailedError, RuntimeFailureError

if TYPE_CHECKING:
    from promptdeck.core.evals.outputs import ReportTarget
    from promptdeck.core.evals.results import CellResult, RunSummary
    from promptdeck.core.evals.runner import RunOutcome
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["exit_for", "write_outcomes"]


def write_outcomes(
    workspace: Workspace,
    outcomes: Sequence[RunOutcome],
    judge: str | None,
    targets: Sequence[ReportTarget],
    fail_on_regression: bool,
) -> tuple[RunSummary, Sequence[CellResult], int]:
    """Write the reports of these runs; count regressions against their baselines.

    Returns:
        The summary of every run together, their cells, and how many regressed.
    """
    from promptdeck.core.evals import outputs as report_outputs
    from promptdeck.core.evals.results import summarize

    # One run's cells stay as the runner gave them (a big run's are read back only when
    # a report needs them); several runs' are put together.
    cells: Sequence[CellResult] = (
        outcomes[0].cells
        if len(outcomes) == 1
        else [cell for outcome in outcomes for cell in outcome.cells]
    )
    if len(outcomes) == 1:
        summary = outcomes[0].summary
    else:
        summary = summarize(cells, run_id=",".join(o.run_uid for o in outcomes), judge=judge)
    report_outputs.write_reports(
        targets,
        summary,
        cells,
        html=lambda: _html(workspace, [o.run_uid for o in outcomes], judge),
    )
    regressions = 0
    if fail_on_regression:
        from promptdeck.core.evals.compare import baseline_of, compare_runs

        for outcome in outcomes:
            suite = next((c.suite for c in outcome.cells), None)
            base = baseline_of(workspace, suite) if suite else None
            if base is None:
                echo_warning(f"suite {suite}: no baseline yet (promptdeck eval bless RUN_ID)")
                continue
            found = compare_runs(workspace, base, outcome.run_uid).regressions
            regressions += len(found)
            for name, model, case, repeat in found:
                click.echo(f"regression: {name} · {model} · {case} #r{repeat}", err=True)
    return summary, cells, regressions


def exit_for(
    outcomes: Sequence[RunOutcome],
    summary: RunSummary,
    cells: Sequence[CellResult],
    regressions: int,
) -> None:
    """Warn about what needs it, and raise the error the runs' results exit with."""
    for outcome in outcomes:
        if outcome.status == "running":
            echo_warning(f"run {outcome.run_uid}: {outcome.stopped_reason}")
    stopped = [o for o in outcomes if o.status not in ("finished", "running")]
    if summary.unchecked:
        echo_warning(
            f"{summary.unchecked} cells have no assertions: nothing was checked "
            "(add `assert:` to their cases, or `defaults: assert:` to the suite)"
        )
    if stopped:
        reason = stopped[0].stopped_reason or stopped[0].status
        raise RuntimeFailureError(
            f"run {stopped[0].run_uid} {stopped[0].status}: {reason}",
            f"finish it later with `promptdeck --headless eval --resume {stopped[0].run_uid}`",
        )
    if cells and summary.errors == summary.cells:
        first = next((c.error for c in cells if c.error), "no answer")
        raise RuntimeFailureError(
            f"every model call failed ({summary.errors} cells): {first}",
            "check the model name, its key and that its server is up",
        )
    if summary.failed or summary.errors or regressions:
        raise CheckFailedError(
            f"{summary.failed} cells failed, {summary.errors} errored"
            + (f", {regressions} regressed" if regressions else ""),
            "see the report, or `promptdeck eval show RUN_ID`",
        )


def _html(workspace: Workspace, uids: list[str], judge: str | None) -> str:
    """The HTML report of the runs just made (read back from the workspace)."""
    from promptdeck.core.evals.html_report import render_html
    from promptdeck.core.evals.report_data import load_report

    return render_html(load_report(workspace, uids, judge=judge))

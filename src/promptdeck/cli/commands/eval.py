"""``promptdeck eval``: run suites headless (CI), compare runs, bless baselines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from promptdeck.cli.commands.eval_run import Reports, run_suites
from promptdeck.cli.context import Options, open_tui, open_workspace
from promptdeck.cli.output import echo_json, render_table
from promptdeck.errors import UsageError

if TYPE_CHECKING:
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["eval_group"]


class _DefaultToRun(click.Group):
    """`eval [run] SUITE ...` runs suites; `eval list|show|compare|bless` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=_DefaultToRun)
def eval_group() -> None:
    """Run eval suites (`eval [run] [SUITE...]`); list, show, compare and bless runs.

    Exit codes: 0 everything passed, 1 a case failed or regressed, 2 a configuration
    error, 3 the run could not be carried out (every call failed, cost cap reached).
    """


@eval_group.command("run")
@click.argument("suites", nargs=-1)
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML.")
@click.option(
    "--json",
    "json_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a JSON report.",
)
@click.option(
    "--jsonl",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Stream one JSON line per cell.",
)
@click.option(
    "--markdown", type=click.Path(path_type=Path, dir_okay=False), help="Write a Markdown summary."
)
@click.option(
    "--html",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a single-file HTML report (opens from disk, no server).",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a report, its format by extension: .html .json .jsonl .xml (JUnit) .md.",
)
@click.option(
    "--max-cost", type=float, help="Refuse to start above this estimated cost ($); stop at it."
)
@click.option("--resume", "resume", metavar="RUN_ID", help="Finish an interrupted run.")
@click.option(
    "--fail-on-regression",
    is_flag=True,
    help="Exit 1 when a case that passed in the baseline fails.",
)
@click.option(
    "--no-cache", is_flag=True, help="Call every model afresh (answers are still cached)."
)
@click.option(
    "--concurrency", type=click.IntRange(1, 256), help="Calls at once (default: the suite's)."
)
@click.option(
    "--queue",
    is_flag=True,
    help="Plan the run and leave its cells to workers (`promptdeck worker`); print its id.",
)
@click.option(
    "--wait",
    "wait",
    metavar="RUN_ID",
    help="Follow a queued run to its end: progress, reports and exit code as eval's.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="With --wait: give up (exit 3) after this many seconds with no worker on the run.",
)
@click.pass_obj
def eval_run(
    options: Options,
    suites: tuple[str, ...],
    junit: Path | None,
    json_file: Path | None,
    jsonl: Path | None,
    markdown: Path | None,
    html: Path | None,
    outputs: tuple[Path, ...],
    max_cost: float | None,
    resume: str | None,
    fail_on_regression: bool,
    no_cache: bool,
    concurrency: int | None,
    queue: bool,
    wait: str | None,
    timeout: float | None,
) -> None:
    """Run SUITES (all of them when none is named) over their prompts × models × cases.

    On a terminal, without --headless or any report option, opens the Evals screen
    instead (at SUITE, running it, when one is named).
    """
    if resume and suites:
        raise UsageError("--resume takes no suite names", "give only --resume RUN_ID")
    if queue or wait or timeout is not None:
        from promptdeck.cli.commands.eval_queue import queue_or_wait

        given = {"--resume": resume, "--max-cost": max_cost, "--concurrency": concurrency}
        queue_or_wait(
            options,
            suites,
            queue=queue,
            wait=wait,
            timeout=timeout,
            no_cache=no_cache,
            fail_on_regression=fail_on_regression,
            reports={
                "json": json_file,
                "junit": junit,
                "jsonl": jsonl,
                "markdown": markdown,
                "html": html,
            },
            outputs=outputs,
            refused={k: v for k, v in given.items() if v is not None},
        )
        return
    headless_only = (junit, json_file, jsonl, markdown, html, max_cost, resume, concurrency)
    if (
        len(suites) <= 1
        and all(v is None for v in headless_only)
        and not (outputs or fail_on_regression or no_cache)
        and options.wants_tui()
    ):
        from promptdeck.tui.targets import ItemTarget

        open_tui(options, "evals", ItemTarget(suites[0], run=True) if suites else None)
        return
    from promptdeck.core.evals.early_start import EarlyStart

    # A new run whose calls are sure to be made sends its first ones while the store
    # opens (see early_start); any other run opens the workspace first, as before.
    early = (
        None
        if resume
        else EarlyStart.plan(
            options.workspace,
            suites,
            cache="write" if no_cache else "read",
            concurrency=concurrency,
            max_cost=max_cost,
        )
    )
    opened: list[Workspace] = []
    if early is None:
        opened.append(open_workspace(options))
    try:
        run_suites(
            options,
            opened,
            early,
            suites,
            resume,
            reports=Reports(outputs, html, json_file, junit, markdown, jsonl),
            max_cost=max_cost,
            no_cache=no_cache,
            concurrency=concurrency,
            fail_on_regression=fail_on_regression,
        )
    finally:
        for workspace in opened:
            workspace.close()


@eval_group.command("list")
@click.option("--suite", help="Only runs of this suite.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def eval_list(options: Options, suite: str | None, as_json: bool) -> None:
    """List recent eval runs, newest first.

    A run that did not finish says how far it got: `interrupted (12 of 40 cells)` for a
    run whose process died or was stopped (finish it with `eval --resume RUN_ID`),
    `running (...)` while a process still works on it.
    """
    from promptdeck.core.evals.leases import run_states
    from promptdeck.store.runs_repo import list_runs

    workspace = open_workspace(options, sync=False)
    try:
        with workspace.session() as session:
            runs = list_runs(session, suite)
            states = run_states(session, runs)
    finally:
        workspace.close()
    rows: list[dict[str, Any]] = []
    for r in runs:
        state = states[r.id] if r.id is not None else None
        rows.append(
            {
                "id": r.uid,
                "suite": r.suite,
                "status": state.status if state else r.status,
                "state": state.label if state else r.status,
                "cells": r.total_cells,
                "done": state.done if state else r.total_cells,
                "passed": state.passed if state else r.passed,
                "failed": state.failed if state else r.failed,
                "errors": state.errors if state else r.errors,
                "unchecked": state.unchecked if state else 0,
                "cost_usd": r.cost_usd,
                "baseline": r.is_baseline,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No runs yet: `promptdeck --headless eval SUITE`.")
        return
    click.echo(
        render_table(
            ("RUN", "SUITE", "STATUS", "CELLS", "PASSED", "FAILED", "ERRORS", "BASELINE"),
            [
                (
                    r["id"],
                    r["suite"],
                    r["state"],
                    r["cells"],
                    r["passed"],
                    r["failed"],
                    r["errors"],
                    "yes" if r["baseline"] else None,
                )
                for r in rows
            ],
        )
    )


@eval_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON report on stdout.")
@click.pass_obj
def eval_show(options: Options, run_id: str, as_json: bool) -> None:
    """Show a run: its summary and every failed or errored cell.

    The headline says when the run did not finish (`interrupted (12 of 40 cells)`).
    """
    from promptdeck.core.evals.reports import render_json, render_markdown
    from promptdeck.core.evals.stored import run_report

    workspace = open_workspace(options, sync=False)
    try:
        summary, cells = run_report(workspace, run_id)
    finally:
        workspace.close()
    click.echo(
        render_json(summary, cells) if as_json else render_markdown(summary, cells), nl=False
    )


@eval_group.command("compare")
@click.argument("before")
@click.argument("after")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def eval_compare(options: Options, before: str, after: str, as_json: bool) -> None:
    """Compare run AFTER against run BEFORE: regressions, improvements, significance."""
    from promptdeck.core.evals.compare import compare_runs

    workspace = open_workspace(options, sync=False)
    try:
        result = compare_runs(workspace, before, after)
    finally:
        workspace.close()
    test = result.test
    if as_json:
        echo_json(
            {
                "before": result.before,
                "after": result.after,
                "regressions": [list(k) for k in result.regressions],
                "improvements": [list(k) for k in result.improvements],
                "unchanged": result.unchanged,
                "p_value": test.p_value if test else None,
                "significant": test.significant if test else False,
            }
        )
        return
    click.echo(
        f"{result.before} → {result.after}: {len(result.regressions)} regressions, "
        f"{len(result.improvements)} improvements, {result.unchanged} unchanged"
    )
    for label, items in (("regression", result.regressions), ("improvement", result.improvements)):
        for name, model, case, repeat in items:
            click.echo(f"  {label}: {name} · {model} · {case} #r{repeat}")
    if test is not None:
        verdict = "significant" if test.significant else "not significant"
        click.echo(f"paired exact McNemar test: p = {test.p_value:.4f} ({verdict} at 5%)")


@eval_group.command("bless")
@click.argument("run_id")
@click.pass_obj
def eval_bless(options: Options, run_id: str) -> None:
    """Make RUN_ID the baseline of its suite (for --fail-on-regression)."""
    from promptdeck.core.evals.compare import bless

    workspace = open_workspace(options, sync=False)
    try:
        run = bless(workspace, run_id)
    finally:
        workspace.close()
    click.echo(f"{run.uid} is now the baseline of suite {run.suite}.")

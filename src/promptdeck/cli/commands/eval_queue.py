"""``eval SUITE --queue`` and ``eval --wait RUN_ID``: runs carried out by workers."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from promptdeck.cli.aio import run_interruptibly
from promptdeck.cli.commands.eval_outcome import exit_for, write_outcomes
from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_warning
from promptdeck.errors import UsageError

__all__ = ["queue_or_wait"]

_NOT_WITH = {
    "--resume": "workers finish a queued run; follow it with `eval --wait RUN_ID`",
    "--max-cost": "workers share the budgets of promptdeck.toml ([budgets]): set one there",
    "--concurrency": "each worker sets its own: `promptdeck worker --concurrency N`",
}


def queue_or_wait(
    options: Options,
    suites: tuple[str, ...],
    *,
    queue: bool,
    wait: str | None,
    timeout: float | None,
    no_cache: bool,
    fail_on_regression: bool,
    reports: Mapping[str, Path | None],
    outputs: tuple[Path, ...],
    refused: Mapping[str, object],
) -> None:
    """Queue suites' runs for workers, or follow a queued run to its end.

    Raises:
        UsageError: Options that do not go together.
    """
    if queue and wait:
        raise UsageError(
            "--queue and --wait go apart",
            "queue with `eval SUITE --queue`, then follow with `eval --wait RUN_ID`",
        )
    if refused:
        name = next(iter(refused))
        raise UsageError(
            f"{name} does not go with {'--queue' if queue else '--wait'}", _NOT_WITH[name]
        )
    if timeout is not None and not wait:
        raise UsageError(
            "--timeout goes with --wait", "`promptdeck eval --wait RUN_ID --timeout 600`"
        )
    if queue:
        _queue(options, suites, no_cache, reports, outputs, fail_on_regression)
        return
    assert wait is not None
    if suites:
        raise UsageError("--wait takes no suite names", "give only --wait RUN_ID")
    if no_cache:
        raise UsageError("--no-cache goes with --queue", "`eval SUITE --queue --no-cache`")
    _wait(options, wait, timeout, fail_on_regression, reports, outputs)


def _queue(
    options: Options,
    suites: tuple[str, ...],
    no_cache: bool,
    reports: Mapping[str, Path | None],
    outputs: tuple[Path, ...],
    fail_on_regression: bool,
) -> None:
    from promptdeck.core.evals.plan import plan_suites
    from promptdeck.core.evals.queue import queue_run

    later = [f"--{k}" for k, v in reports.items() if v is not None and k != "json"]
    if later or outputs or fail_on_regression:
        raise UsageError(
            f"{(later or ['--output' if outputs else '--fail-on-regression'])[0]} is for "
            "--wait: a queued run has no results yet",
            "`promptdeck eval --wait RUN_ID` with the same option",
        )
    workspace = open_workspace(options)
    try:
        plans = plan_suites(workspace, suites)
        queued = [
            (plan, queue_run(workspace, plan, cache="write" if no_cache else "read"))
            for plan in plans
        ]
    finally:
        workspace.close()
    document = {
        "runs": [
            {"id": uid, "suite": plan.name, "cells": plan.total, "status": "queued"}
            for plan, uid in queued
        ]
    }
    for plan, uid in queued:
        click.echo(f"{plan.name}: {plan.total} cells queued  run {uid}", err=True)
    target = reports.get("json")
    if target is not None and str(target) == "-":
        click.echo(json.dumps(document, indent=2))
        return
    if target is not None:
        try:
            target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot write {target} ({exc.strerror})", "choose another path"
            ) from exc
    for _plan, uid in queued:
        click.echo(uid)


def _wait(
    options: Options,
    uid: str,
    timeout: float | None,
    fail_on_regression: bool,
    reports: Mapping[str, Path | None],
    outputs: tuple[Path, ...],
) -> None:
    from promptdeck.cli.progress import ProgressReporter
    from promptdeck.core.evals import outputs as report_outputs
    from promptdeck.core.evals.follow import follow_run

    targets = report_outputs.targets(
        outputs,
        html=reports.get("html"),
        json=reports.get("json"),
        junit=reports.get("junit"),
        markdown=reports.get("markdown"),
    )
    jsonl = reports.get("jsonl")
    report_outputs.prepare([*targets, *report_outputs.targets(jsonl=jsonl)])
    workspace = open_workspace(options, sync=False)
    try:
        sink = jsonl.open("w", encoding="utf-8") if jsonl else None
    except OSError as exc:
        workspace.close()
        raise UsageError(f"cannot write {jsonl} ({exc.strerror})", "choose another path") from exc
    try:
        outcome = run_interruptibly(
            follow_run(
                workspace,
                uid,
                ProgressReporter(sys.stderr, sink),
                give_up_after=timeout,
                say=echo_warning,
            )
        )
        summary, cells, regressions = write_outcomes(
            workspace, [outcome], outcome.summary.judge, targets, fail_on_regression
        )
        exit_for([outcome], summary, cells, regressions)  # the workspace still open
    finally:
        if sink is not None:
            sink.close()
        workspace.close()

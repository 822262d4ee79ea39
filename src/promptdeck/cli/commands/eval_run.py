"""``promptdeck eval SUITE``'s run: plan, call, grade, report (the command is in ``eval``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from promptdeck.cli.aio import run_interruptibly
from promptdeck.cli.commands.eval_checks import warn_concurrency_cap, warn_duplicates
from promptdeck.cli.commands.eval_outcome import exit_for, write_outcomes
from promptdeck.cli.context import Options, open_workspace, settle_gc
from promptdeck.cli.output import echo_warning
from promptdeck.cli.progress import ProgressReporter
from promptdeck.errors import UsageError

if TYPE_CHECKING:
    from promptdeck.core.evals.early_start import EarlyStart
    from promptdeck.core.evals.events import RunOutcome
    from promptdeck.core.evals.plan import SuitePlan
    from promptdeck.core.gateway.engine import Gateway
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["Reports", "run_suites"]


class Reports(NamedTuple):
    """The report files an eval run writes (None: not asked for)."""

    outputs: tuple[Path, ...]
    html: Path | None
    json: Path | None
    junit: Path | None
    markdown: Path | None
    jsonl: Path | None


def run_suites(
    options: Options,
    opened: list[Workspace],
    early: EarlyStart | None,
    suites: tuple[str, ...],
    resume: str | None,
    *,
    reports: Reports,
    max_cost: float | None,
    no_cache: bool,
    concurrency: int | None,
    fail_on_regression: bool,
) -> None:
    """Run the suites (or resume a run), write the reports, exit as the outcome says.

    ``opened`` holds the open workspace, or is empty when ``early`` has started
    sending: the workspace then opens (and the suites are planned) in a thread while
    the first answers arrive, and is added to ``opened`` for the caller to close.
    """
    from promptdeck.core.evals import outputs as report_outputs

    outputs, html, json_file, junit, markdown, jsonl = reports
    stream = sys.stderr
    # --jsonl streams cells as they finish; every other report is written at the end.
    targets = report_outputs.targets(
        outputs, html=html, json=json_file, junit=junit, markdown=markdown
    )
    report_outputs.prepare([*targets, *report_outputs.targets(jsonl=jsonl)])
    try:
        sink = jsonl.open("w", encoding="utf-8") if jsonl else None
    except OSError as exc:
        raise UsageError(f"cannot write {jsonl} ({exc.strerror})", "choose another path") from exc
    outcomes: list[RunOutcome] = []
    plans: list[SuitePlan] = []

    def open_store() -> None:
        """Load the store and the runner, and open the workspace (in a thread)."""
        import promptdeck.core.evals.outputs
        import promptdeck.core.evals.runner
        import promptdeck.core.gateway.engine  # noqa: F401

        opened.append(open_workspace(options))

    def plan() -> None:
        from promptdeck.core.evals.runner import plan_suites

        plans.extend([] if resume else plan_suites(opened[0], suites))
        warn_duplicates(opened[0], [plan.suite.name for plan in plans])
        settle_gc()

    async def go() -> None:
        gateway: Gateway | None = None
        try:
            if early is not None:
                early.start()
                await asyncio.to_thread(open_store)  # while the first answers arrive
            from promptdeck.core.evals.runner import EvalRunner
            from promptdeck.core.gateway.early_answers import record_orphaned
            from promptdeck.core.gateway.engine import Gateway

            workspace = opened[0]
            gateway = Gateway.for_workspace(
                workspace, router=early.router if early is not None else None
            )
            gateway.early = early
            if early is None:
                plan()
            else:
                await asyncio.to_thread(plan)
            recovered = await record_orphaned(gateway, workspace.paths.state)
            if recovered:
                echo_warning(
                    f"recorded {recovered} answers that arrived before an earlier run was "
                    "stopped (their cost is counted; a rerun is served them from the cache)"
                )
            warn_concurrency_cap(gateway.router, plans, concurrency)
            runner = EvalRunner(
                workspace,
                gateway,
                ProgressReporter(stream, sink),
                max_cost=max_cost,
                cache="write" if no_cache else "read",
                concurrency=concurrency,
            )
            if resume:
                outcomes.append(await runner.resume(resume))
            for suite_plan in plans:
                outcomes.append(await runner.run(suite_plan))
        finally:
            if early is not None:
                await early.close(gateway)
            if gateway is not None:
                await gateway.aclose()

    try:
        run_interruptibly(go())
        judge = next((p.judge for p in plans if p.judge), None) if plans else None
        summary, cells, regressions = write_outcomes(
            opened[0], outcomes, judge, targets, fail_on_regression
        )
        # While the workspace is open: a big run's cells are read back from it.
        exit_for(outcomes, summary, cells, regressions)
    finally:
        if sink is not None:
            sink.close()

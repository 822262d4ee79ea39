"""``promptdeck worker``: work through queued eval runs (``eval --queue``)."""

from __future__ import annotations

import sys

import click

from promptdeck.cli.aio import run_interruptibly
from promptdeck.cli.context import Options, open_workspace, settle_gc
from promptdeck.cli.output import echo_warning

__all__ = ["worker"]


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=32,
    show_default=True,
    help="Calls at once.",
)
@click.option(
    "--suite-filter",
    metavar="GLOB",
    help="Only runs of suites whose name matches this glob (e.g. 'nightly-*').",
)
@click.option(
    "--once", is_flag=True, help="Leave when no queued run has cells to take (else wait for more)."
)
@click.pass_obj
def worker(options: Options, concurrency: int, suite_filter: str | None, once: bool) -> None:
    """Claim pending cells of queued runs (`eval SUITE --queue`), call, grade and write them.

    Start any number of workers, on any machines sharing the workspace's database and
    holding the model keys: each claims cells in chunks under a lease with a heartbeat,
    so no cell is called twice; a worker killed mid-chunk loses nothing (its cells are
    taken up by another once its lease expires). The exact cache and the budgets are
    shared through the database. Ctrl+C (or SIGTERM) finishes the cells in hand and
    leaves; a second Ctrl+C stops at once.
    """
    from promptdeck.cli.progress import ProgressReporter
    from promptdeck.core.evals.worker import Worker
    from promptdeck.core.gateway.engine import Gateway

    workspace = open_workspace(options)
    stream = sys.stderr
    holder: list[Worker] = []

    def stop() -> None:
        if holder:
            click.echo("worker: finishing the cells in hand, then leaving", file=stream)
            holder[0].stop()

    async def go() -> None:
        gateway = Gateway.for_workspace(workspace)
        try:
            found = Worker(
                workspace,
                gateway,
                concurrency=concurrency,
                suite_filter=suite_filter,
                once=once,
                reporter=ProgressReporter(stream),
                say=echo_warning,
            )
            holder.append(found)
            cap = workspace.config.concurrency.default
            click.echo(
                f"worker: waiting for queued runs{f' of {suite_filter}' if suite_filter else ''}"
                f" (concurrency {concurrency})",
                file=stream,
            )
            if concurrency > cap:
                echo_warning(
                    f"[concurrency] in promptdeck.toml caps each model at {cap} calls at once "
                    f"(default; per_model overrides it): --concurrency {concurrency} needs "
                    "several models, or a higher cap there"
                )
            await found.run()
        finally:
            await gateway.aclose()

    try:
        settle_gc()
        run_interruptibly(go(), drain=stop)
    finally:
        workspace.close()
    if holder:
        stats = holder[0].stats
        runs = len(stats.runs)
        click.echo(
            f"worker: {stats.cells} cells in {runs} run{'' if runs == 1 else 's'}", file=stream
        )

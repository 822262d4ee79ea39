"""Follow a run other processes carry out (``eval --wait``): progress, then its results.

The follower reads the run's cells as workers finish them and reports each, as a run
of its own would (so the CLI prints the same progress and streams the same JSONL),
until a worker closes the run. It watches the run's leases too: when no process has
held a live lease on it for a while it says so (once, until one comes back), and with
``give_up_after`` it gives up after that long without one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from promptdeck.core.evals.events import (
    Progress,
    Reporter,
    RunFinished,
    RunOutcome,
    RunStarted,
)
from promptdeck.core.evals.leases import is_live, lease_seconds
from promptdeck.core.evals.stored import run_report, stored_result
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError, RuntimeFailureError
from promptdeck.store import leases_repo, queue_repo, runs_repo
from promptdeck.store.tables import Prompt, PromptVersion

__all__ = ["ENDED", "follow_run"]

ENDED = ("finished", "stopped", "refused")
"""The statuses of a run no worker will take up again."""
_READ = 2000
"""Finished cells read at most per look."""


def _names(workspace: Workspace) -> dict[int, str]:
    from sqlmodel import select

    with workspace.session() as session:
        rows = session.exec(
            select(PromptVersion.id, Prompt.name, PromptVersion.version).join(
                Prompt,
                Prompt.id == PromptVersion.prompt_id,  # type: ignore[arg-type]
            )
        ).all()
    return {int(vid): f"{name}@{version}" for vid, name, version in rows if vid is not None}


async def follow_run(
    workspace: Workspace,
    uid: str,
    reporter: Reporter | None = None,
    *,
    poll_seconds: float = 0.5,
    idle_seconds: float | None = None,
    give_up_after: float | None = None,
    say: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Report a run's cells as they finish, until the run ends; return its outcome.

    Args:
        workspace: The workspace.
        uid: The run's id (or a unique prefix, as everywhere).
        reporter: Where progress goes.
        poll_seconds: How often the database is read.
        idle_seconds: How long without a live lease before saying no worker runs it
            (default: the lease period, at most 10 s).
        give_up_after: Give up after this long without a live lease (None: wait on).
        say: Prints one line for people.

    Raises:
        NotFoundError: No such run.
        RuntimeFailureError: ``give_up_after`` passed with no worker on the run.
    """
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        run_id, full, suite = run.id, run.uid, run.suite or "?"
        counts = runs_repo.cell_counts(session, run_id)
    names = _names(workspace)
    if reporter:
        reporter.started(RunStarted(full, suite, counts["total"], counts["pending"], 0, 0.0, None))
    state = Progress(counts["total"], 0, 0, 0, 0, 0, 0.0)
    idle_after = idle_seconds if idle_seconds is not None else min(10.0, lease_seconds())
    started = last_alive = time.monotonic()
    told = False
    frontier, seen = 0, set[int]()
    while True:
        # In this order: a cell done before the run's status or first pending cell was
        # read is among the rows read after them.
        with workspace.session() as session:
            stored = runs_repo.get_run(session, full)
            assert stored is not None
            status = stored.status
            below = queue_repo.first_pending(session, run_id, default=frontier) - 1
            rows = queue_repo.done_cells_after(session, run_id, frontier, seen, _READ)
            leases = leases_repo.leases_of(session, [run_id])
        frontier = max(frontier, below if len(rows) < _READ else min(below, int(rows[-1][0].id)))
        for cell, scores in rows:
            seen.add(int(cell.id))
            result = stored_result(
                suite, names.get(cell.prompt_version_id or -1, "?"), cell, cell, scores
            )
            state.add(result)
            if reporter:
                reporter.cell(state.event(result, time.monotonic() - started))
        seen = {i for i in seen if i > frontier}
        if status in ENDED and not rows:
            break
        now = time.monotonic()
        if any(is_live(lease) for lease in leases):
            last_alive, told = now, False
        elif not told and now - last_alive >= idle_after:
            told = True
            if say:
                say(
                    f"run {full}: no worker is running it ({state.done} of {state.total} "
                    "cells done); start one with `promptdeck worker`"
                )
        if give_up_after is not None and now - last_alive >= give_up_after and status not in ENDED:
            raise RuntimeFailureError(
                f"run {full}: no worker ran it for {give_up_after:g} s ({state.done} of "
                f"{state.total} cells done)",
                f"start `promptdeck worker`, then `promptdeck eval --wait {full}` again",
            )
        if not rows:
            await asyncio.sleep(poll_seconds)
    summary, cells = run_report(workspace, full)
    if reporter:
        reporter.finished(RunFinished(full, summary.status or status, summary))
    reason = (stored.summary or {}).get("stopped") if stored is not None else None
    return RunOutcome(full, status, summary, cells, reason)

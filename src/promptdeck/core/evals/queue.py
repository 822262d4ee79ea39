"""Runs stored for workers: ``eval --queue`` plans a run and leaves its cells pending.

A queued run is an ordinary run (its cells ``pending``, its plan in its ``config``)
marked ``queued`` in its config, with the options its workers follow (the cache
mode). ``promptdeck worker`` processes (:mod:`promptdeck.core.evals.worker`) find
queued runs that still have cells free to take (pending, and not held by a live
lease) and work on them; ``eval --wait`` (:mod:`promptdeck.core.evals.follow`)
follows one to its end.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from promptdeck.core.evals.plan import SuitePlan
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import leases_repo, queue_repo, runs_repo
from promptdeck.store.runs_repo import CellKey
from promptdeck.timeutil import utcnow

__all__ = ["QueuedRun", "create_run", "next_queued_run", "queue_run"]


def create_run(
    workspace: Workspace, plan: SuitePlan, *, status: str = "running", **extra: Any
) -> str:
    """Store a run of ``plan`` with every cell pending; return its id.

    Args:
        workspace: The workspace.
        plan: The planned suite.
        status: The run's first status (``running``, or ``queued`` for workers).
        extra: More entries for the run's config (a queued run's options).
    """
    uid = utcnow().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    config = {
        "suite": plan.name,
        "prompts": {p.name: p.version for p in plan.prompts},
        "prompt_refs": [f"{p.name}@{p.version}" for p in plan.prompts],
        "models": plan.models,
        "repeat": plan.suite.file.repeat,
        "threshold": plan.suite.file.threshold,
        "judge": plan.judge,
        **extra,
    }
    with workspace.session() as session:
        run = runs_repo.create_run(session, uid, plan.name, config)
        assert run.id is not None
        run.status = status
        run.total_cells = runs_repo.insert_cells(
            session,
            run.id,
            (
                CellKey(prompt.version_id, model, case.key, case.index, repeat, case.description)
                for prompt, model, case, repeat in plan.cells()
            ),
        )
        session.add(run)
    return uid


def queue_run(workspace: Workspace, plan: SuitePlan, *, cache: str = "read") -> str:
    """Store a run for workers (``eval --queue``): planned, every cell pending.

    Args:
        workspace: The workspace.
        plan: The planned suite (every problem was found planning it).
        cache: The cache mode its workers call with (``read``, or ``write`` for
            ``--no-cache``).

    Returns:
        The run's id.
    """
    return create_run(workspace, plan, status="queued", queued=True, cache=cache)


@dataclass(frozen=True)
class QueuedRun:
    """A queued run with cells free to take.

    Attributes:
        uid: The run's id.
        suite: Its suite's name.
        cache: The cache mode its calls use.
    """

    uid: str
    suite: str
    cache: str


def next_queued_run(
    workspace: Workspace,
    suite_filter: str | None = None,
    skip: Collection[str] = (),
) -> QueuedRun | None:
    """The oldest queued run with cells free to take, if any.

    Args:
        workspace: The workspace.
        suite_filter: Only runs of suites whose name matches this glob (``nightly-*``).
        skip: Run ids to pass over (runs this worker cannot plan).
    """
    from promptdeck.core.evals.leases import Lease, is_live

    cutoff = Lease(workspace, 0).free_since()
    now = utcnow()
    with workspace.session() as session:
        for row in queue_repo.open_runs(session):
            config: dict[str, Any] = row.config
            if not config.get("queued") or row.uid in skip:
                continue
            if suite_filter and not fnmatch.fnmatchcase(row.suite or "", suite_filter):
                continue
            # A worker that died on this machine gives its cells back at once.
            leases_repo.end_stale_leases(
                session, row.id, lambda lease: not is_live(lease, now), now
            )
            if queue_repo.has_free_cells(session, row.id, cutoff):
                return QueuedRun(row.uid, row.suite or "", str(config.get("cache", "read")))
    return None

"""Who is running a run: leases with heartbeats, and a run's state as people see it.

A process running a run (a fresh run, a resume or a worker) holds a lease: its pid
and host, and a heartbeat refreshed every sixth of the lease period. A lease is live
while it is not ended, its heartbeat is younger than the lease period
(:func:`lease_seconds`: ``LEASE_SECONDS``, or ``PROMPTDECK_LEASE_SECONDS``; every
process sharing a database should use the same), and (on this host) its process
still exists. A run stored as ``running`` with no live lease was
interrupted (killed, crashed, or its machine went away): commands show it as
``interrupted (n of m cells)``, and ``eval --resume`` finishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import leases_repo, runs_repo
from promptdeck.store.leases_repo import LeaseRow
from promptdeck.store.tables import Run
from promptdeck.timeutil import utcnow

__all__ = [
    "HEARTBEAT_SECONDS",
    "LEASE_SECONDS",
    "Lease",
    "RunState",
    "heartbeat_seconds",
    "is_live",
    "lease_seconds",
    "run_state",
    "run_states",
]

LEASE_SECONDS = 30.0
"""A lease without a heartbeat for this long is dead."""
HEARTBEAT_SECONDS = 5.0
"""How often a running process refreshes its lease (at the default period)."""


def lease_seconds() -> float:
    """The lease period: ``PROMPTDECK_LEASE_SECONDS`` when set (at least 1), else 30."""
    raw = os.environ.get("PROMPTDECK_LEASE_SECONDS", "")
    try:
        value = float(raw) if raw.strip() else LEASE_SECONDS
    except ValueError:
        value = LEASE_SECONDS
    return max(1.0, value) if math.isfinite(value) else LEASE_SECONDS


def heartbeat_seconds() -> float:
    """How often a lease's heartbeat is refreshed: a sixth of the period (5 s at 30 s)."""
    return lease_seconds() / (LEASE_SECONDS / HEARTBEAT_SECONDS)


def _host() -> str:
    return socket.gethostname()


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def is_live(lease: LeaseRow, now: datetime | None = None) -> bool:
    """Whether a lease's process may still be working on its run."""
    now = now or utcnow()
    if lease.ended_at is not None:
        return False
    if lease.heartbeat_at < now - timedelta(seconds=lease_seconds()):
        return False
    return not (lease.host == _host() and not _pid_exists(lease.pid))


class Lease:
    """This process's lease on a run: taken, kept alive in the background, ended.

    Args:
        workspace: The workspace.
        run_id: The run's row id.
    """

    def __init__(self, workspace: Workspace, run_id: int) -> None:
        self.workspace = workspace
        self.run_id = run_id
        self.id: int | None = None
        self._task: asyncio.Task[None] | None = None

    def acquire(self, session: Session) -> int:
        """Take a lease (ending the run's dead ones first); return its id."""
        now = utcnow()
        leases_repo.end_stale_leases(session, self.run_id, lambda row: not is_live(row, now), now)
        self.id = leases_repo.open_lease(session, self.run_id, os.getpid(), _host(), now)
        return self.id

    def free_since(self) -> datetime:
        """Cells claimed by a lease with no heartbeat since then are free to take."""
        return utcnow() - timedelta(seconds=lease_seconds())

    def start(self) -> None:
        """Refresh the heartbeat in the background until :meth:`release`."""
        self._task = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(heartbeat_seconds())
            await asyncio.to_thread(self._beat_once)

    def _beat_once(self) -> None:
        assert self.id is not None
        with self.workspace.session() as session:
            leases_repo.heartbeat(session, self.id, utcnow())
            # A fellow process that died gives its cells back at once.
            now = utcnow()
            leases_repo.end_stale_leases(
                session, self.run_id, lambda row: row.id != self.id and not is_live(row, now), now
            )

    async def stop(self) -> None:
        """Stop the heartbeat (the lease stays until :meth:`release`)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def release(self, session: Session) -> None:
        """End the lease, giving back the cells it claimed and did not finish."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.id is not None:
            leases_repo.end_lease(session, self.id, utcnow())

    def close_run(self, status: str, reason: str | None) -> dict[str, int]:
        """End the lease and close the run's row, unless another process still runs it.

        Args:
            status: How this process's part ended (``finished``, ``stopped``,
                ``refused``, ``interrupted``, or ``queued``: a worker handing a queued
                run back); ``finished`` with cells left is ``stopped``.
            reason: Why it stopped early, if it did.

        Returns:
            The run's cell counts.
        """
        with self.workspace.session() as session:
            self.release(session)
            run = session.get(Run, self.run_id)
            assert run is not None
            counts = runs_repo.cell_counts(session, self.run_id)
            run.passed, run.failed, run.errors = (
                counts["passed"],
                counts["failed"],
                counts["errors"],
            )
            run.cost_usd = counts["cost_micro"] / 1_000_000
            session.add(run)
            if counts["pending"] and self.others_live(session):
                return counts  # another process carries on: the run stays running
            if counts["pending"] and status == "finished":
                status = "stopped"
            if not counts["pending"] and status == "queued":
                status = "finished"  # handed back with nothing left to do
            run.status = status
            if status != "queued":  # a queued run goes back to the workers, not ended
                run.finished_at = utcnow()
            run.summary = {"counts": counts, "stopped": reason}
        return counts

    def others_live(self, session: Session) -> bool:
        """Whether another process holds a live lease on the run."""
        now = utcnow()
        return any(
            row.id != self.id and is_live(row, now)
            for row in leases_repo.leases_of(session, [self.run_id])
        )


@dataclass(frozen=True)
class RunState:
    """A run's status as people should see it, with how far it got.

    Attributes:
        status: ``running`` only while a live process holds it; ``interrupted`` when
            stored as running but nobody is; else the stored status (``finished``,
            ``stopped``, ``refused``, ``interrupted``).
        done: Cells finished (graded, failed, or errored).
        total: Cells planned.
        passed: Cells that passed.
        failed: Cells whose assertions failed.
        errors: Cells whose call failed.
        unchecked: Cells of cases without assertions.
    """

    status: str
    done: int
    total: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    unchecked: int = 0

    @property
    def complete(self) -> bool:
        """True for a finished run with every cell done."""
        return self.status == "finished" and self.done >= self.total

    @property
    def label(self) -> str:
        """``finished``, or e.g. ``interrupted (12 of 40 cells)``."""
        if self.complete:
            return self.status
        return f"{self.status} ({self.done} of {self.total} cells)"


def run_states(session: Session, runs: Sequence[Run]) -> dict[int, RunState]:
    """The state of each run (by row id): its live status and its cell counts.

    Finished runs are read from their rows; the others count their cells.
    """
    open_ids = [r.id for r in runs if r.id is not None and r.status != "finished"]
    now = utcnow()
    live = {row.run_id for row in leases_repo.leases_of(session, open_ids) if is_live(row, now)}
    states: dict[int, RunState] = {}
    for run in runs:
        if run.id is None:
            continue
        if run.status == "finished":
            states[run.id] = RunState(
                run.status,
                run.total_cells,
                run.total_cells,
                run.passed,
                run.failed,
                run.errors,
                int((run.summary or {}).get("counts", {}).get("unchecked", 0)),
            )
            continue
        counts = runs_repo.cell_counts(session, run.id)
        status = run.status
        if status == "running" and run.id not in live:
            status = "interrupted"
        states[run.id] = RunState(
            status,
            counts["total"] - counts["pending"],
            counts["total"] or run.total_cells,
            counts["passed"],
            counts["failed"],
            counts["errors"],
            counts["unchecked"],
        )
    return states


def run_state(session: Session, run: Run) -> RunState:
    """The state of one run (see :func:`run_states`)."""
    assert run.id is not None
    return run_states(session, [run])[run.id]

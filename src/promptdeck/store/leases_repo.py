"""Run leases and cell claims: who runs a run, which cells each took, which are free.

A process running a run holds a lease (a ``run_lease`` row with its pid and host)
and refreshes its heartbeat while it works. Before calling a pending cell it claims
it with one ``UPDATE ... RETURNING``: a cell is free when nobody claimed it or its
claimer's lease is no longer live. SQLite runs each statement atomically under its
write lock (the claim's transaction begins ``BEGIN IMMEDIATE``), so two processes
resuming one run never take the same cell. On PostgreSQL the claim picks its rows
with ``SELECT ... FOR UPDATE SKIP LOCKED``: workers claiming at once each take cells
the others have not locked, rather than queueing on each other's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from promptdeck.store.calls_repo import db_value

__all__ = [
    "FREE",
    "LeaseRow",
    "PendingCell",
    "StoredAnswer",
    "claim_cells",
    "end_lease",
    "end_stale_leases",
    "heartbeat",
    "leases_of",
    "open_lease",
    "pending_cells",
]

FREE = (
    "(claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM run_lease WHERE run_id = :run "
    "AND ended_at IS NULL AND heartbeat_at >= :cutoff))"
)
"""SQL condition on ``run_cell``: no live lease holds the cell.

A lease is live when it is not ended and has a heartbeat since ``:cutoff``; ``:run`` is
the run's id.
"""

_CLAIM = text(
    "UPDATE run_cell SET claimed_by = :lease WHERE id IN :ids AND run_id = :run "
    "AND status = 'pending' AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT id "
    "FROM run_lease WHERE run_id = :run AND ended_at IS NULL AND heartbeat_at >= :cutoff)) "
    "RETURNING id"
).bindparams(bindparam("ids", expanding=True))

_CLAIM_SKIP_LOCKED = text(
    "UPDATE run_cell SET claimed_by = :lease WHERE id IN (SELECT id FROM run_cell "
    "WHERE id IN :ids AND run_id = :run AND status = 'pending' AND (claimed_by IS NULL "
    "OR claimed_by NOT IN (SELECT id FROM run_lease WHERE run_id = :run AND ended_at IS NULL "
    "AND heartbeat_at >= :cutoff)) FOR UPDATE SKIP LOCKED) RETURNING id"
).bindparams(bindparam("ids", expanding=True))

_OPEN_LEASES = text(
    "SELECT id, run_id, pid, host, heartbeat_at FROM run_lease "
    "WHERE ended_at IS NULL AND run_id IN :runs"
).bindparams(bindparam("runs", expanding=True))

_CLAIM_CHUNK = 400


@dataclass(frozen=True)
class LeaseRow:
    """A lease as stored."""

    id: int
    run_id: int
    pid: int
    host: str
    heartbeat_at: datetime
    ended_at: datetime | None


def open_lease(session: Session, run_id: int, pid: int, host: str, now: datetime) -> int:
    """Record that this process runs ``run_id`` from ``now``; return the lease's id."""
    row = session.execute(
        text(
            "INSERT INTO run_lease (run_id, pid, host, started_at, heartbeat_at) "
            "VALUES (:run, :pid, :host, :now, :now) RETURNING id"
        ),
        {"run": run_id, "pid": pid, "host": host, "now": db_value(now)},
    ).one()
    return int(row[0])


def heartbeat(session: Session, lease_id: int, now: datetime) -> bool:
    """Refresh a lease's heartbeat; False when it was ended meanwhile (by another process)."""
    result = session.execute(
        text("UPDATE run_lease SET heartbeat_at = :now WHERE id = :id AND ended_at IS NULL"),
        {"now": db_value(now), "id": lease_id},
    )
    return bool(getattr(result, "rowcount", 0))


def end_lease(session: Session, lease_id: int, now: datetime) -> None:
    """End a lease and give back the cells it claimed but did not finish."""
    session.execute(
        text("UPDATE run_lease SET ended_at = :now WHERE id = :id AND ended_at IS NULL"),
        {"now": db_value(now), "id": lease_id},
    )
    session.execute(
        text("UPDATE run_cell SET claimed_by = NULL WHERE claimed_by = :id AND status = 'pending'"),
        {"id": lease_id},
    )


def leases_of(session: Session, run_ids: Sequence[int]) -> list[LeaseRow]:
    """The leases of these runs that are not ended."""
    if not run_ids:
        return []
    rows = session.execute(_OPEN_LEASES, {"runs": list(run_ids)}).all()
    return [
        LeaseRow(
            int(r.id),
            int(r.run_id),
            int(r.pid),
            str(r.host),
            datetime.fromisoformat(str(r.heartbeat_at)),
            None,
        )
        for r in rows
    ]


def end_stale_leases(
    session: Session, run_id: int, is_stale: Callable[[LeaseRow], bool], now: datetime
) -> int:
    """End the leases of a run that ``is_stale`` says are dead; return how many."""
    ended = 0
    for lease in leases_of(session, [run_id]):
        if is_stale(lease):
            end_lease(session, lease.id, now)
            ended += 1
    return ended


def claim_cells(
    session: Session, run_id: int, lease_id: int, cell_ids: Sequence[int], cutoff: datetime
) -> set[int]:
    """Claim the free pending cells among ``cell_ids`` for a lease; return those taken.

    A cell is free when it is pending and unclaimed, or claimed by a lease that is no
    longer live (ended, or no heartbeat since ``cutoff``).
    """
    taken: set[int] = set()
    claim = _CLAIM_SKIP_LOCKED if session.get_bind().dialect.name == "postgresql" else _CLAIM
    for start in range(0, len(cell_ids), _CLAIM_CHUNK):
        chunk = list(cell_ids[start : start + _CLAIM_CHUNK])
        rows = session.execute(
            claim,
            {"lease": lease_id, "run": run_id, "cutoff": db_value(cutoff), "ids": chunk},
        ).all()
        taken.update(int(r[0]) for r in rows)
    return taken


@dataclass(frozen=True)
class StoredAnswer:
    """The answer of a pending cell, stored when it arrived (its grade was not)."""

    output: str
    source: str
    trace_uid: str | None
    latency_ms: float | None
    ttft_ms: float | None
    tokens: int | None
    cost_usd: float
    similarity: float | None = None


@dataclass(frozen=True)
class PendingCell:
    """A cell still to run: its id and identity (a light row, not an ORM object)."""

    id: int
    run_id: int
    prompt_version_id: int | None
    model: str
    case_key: str
    case_index: int
    repeat: int
    answer: StoredAnswer | None = None
    case_description: str | None = None


_PENDING_COLUMNS = (
    "SELECT id, run_id, prompt_version_id, model, case_key, case_index, repeat, "
    "case_description, output, source, trace_uid, latency_ms, ttft_ms, tokens, cost_usd, "
    "similarity FROM run_cell WHERE run_id = :run AND status = 'pending' AND id > :after "
)
_PENDING = text(_PENDING_COLUMNS + "ORDER BY id LIMIT :limit")
_PENDING_FREE = text(_PENDING_COLUMNS + "AND " + FREE + " ORDER BY id LIMIT :limit")


def pending_cells(
    session: Session,
    run_id: int,
    after_id: int = 0,
    limit: int = 500,
    free_since: datetime | None = None,
) -> list[PendingCell]:
    """Return the next pending cells of a run, by id (for streaming through big runs).

    Args:
        session: The session.
        run_id: The run.
        after_id: Only cells after this id.
        limit: At most this many.
        free_since: Leave out the cells claimed by a lease with a heartbeat since then
            (the cells other live processes are working on).
    """
    rows = session.execute(
        _PENDING_FREE if free_since is not None else _PENDING,
        {
            "run": run_id,
            "after": after_id,
            "limit": limit,
            "cutoff": db_value(free_since) if free_since is not None else None,
        },
    )
    return [
        PendingCell(
            int(r.id),
            int(r.run_id),
            r.prompt_version_id,
            str(r.model),
            str(r.case_key),
            int(r.case_index),
            int(r.repeat),
            StoredAnswer(
                r.output,
                r.source or "fresh",
                r.trace_uid,
                r.latency_ms,
                r.ttft_ms,
                r.tokens,
                float(r.cost_usd or 0.0),
                r.similarity,
            )
            if r.output is not None
            else None,
            r.case_description,
        )
        for r in rows
    ]

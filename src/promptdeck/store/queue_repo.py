"""Queued runs and what their followers read: runs open to workers, cells done since.

Each function takes an explicit session. Pending cells are found through the partial
index ``ix_run_cell_pending`` (m015), so looking for work stays quick however many
finished cells the database holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session

from promptdeck.store import runs_repo
from promptdeck.store.calls_repo import db_value
from promptdeck.store.leases_repo import FREE
from promptdeck.store.tables import Run, RunCell

__all__ = [
    "OPEN_STATUSES",
    "OpenRun",
    "done_cells_after",
    "first_pending",
    "has_free_cells",
    "open_runs",
]

OPEN_STATUSES = ("queued", "running", "interrupted")
"""Statuses of runs that may still have cells for a worker."""

_FREE_WHERE = "WHERE run_id = :run AND status = 'pending' AND " + FREE
_FREE_CELL = text("SELECT id FROM run_cell " + _FREE_WHERE + " ORDER BY id LIMIT 1")  # noqa: S608


@dataclass(frozen=True)
class OpenRun:
    """An eval run that is not over: its row id, id, suite and config."""

    id: int
    uid: str
    suite: str | None
    config: dict[str, Any]


def open_runs(session: Session) -> list[OpenRun]:
    """Eval runs not over (queued, running, or interrupted), oldest first."""
    t = Run.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(t.c.id, t.c.uid, t.c.suite, t.c.config)
        .where(t.c.kind == "eval", t.c.status.in_(OPEN_STATUSES))
        .order_by(t.c.id)
    ).all()
    return [OpenRun(int(r.id), str(r.uid), r.suite, r.config or {}) for r in rows]


def has_free_cells(session: Session, run_id: int, cutoff: datetime) -> bool:
    """Whether a run has a pending cell no live lease holds (heartbeat since ``cutoff``)."""
    found = session.execute(_FREE_CELL, {"run": run_id, "cutoff": db_value(cutoff)}).first()
    return found is not None


def first_pending(session: Session, run_id: int, default: int) -> int:
    """The id of a run's first pending cell; with none pending, one past its last cell.

    ``default`` when the run has no cells at all.
    """
    cell_t = RunCell.__table__  # type: ignore[attr-defined]
    low = session.execute(
        sa_select(func.min(cell_t.c.id)).where(
            cell_t.c.run_id == run_id, cell_t.c.status == "pending"
        )
    ).scalar()
    if low is not None:
        return int(low)
    high = session.execute(
        sa_select(func.max(cell_t.c.id)).where(cell_t.c.run_id == run_id)
    ).scalar()
    return int(high) + 1 if high is not None else default + 1


def done_cells_after(
    session: Session, run_id: int, after_id: int, seen: Collection[int], limit: int = 2000
) -> list[tuple[Row[Any], list[Row[Any]]]]:
    """A run's finished cells with ids above ``after_id`` not in ``seen``, with their scores.

    Cells finish out of order: a follower keeps the id below which it has seen every
    cell (``after_id``) and the ids it has seen above it (``seen``).
    """
    cell_t = RunCell.__table__  # type: ignore[attr-defined]
    cells = [
        c
        for c in session.execute(
            sa_select(cell_t)
            .where(cell_t.c.run_id == run_id, cell_t.c.id > after_id, cell_t.c.status != "pending")
            .order_by(cell_t.c.id)
            .limit(limit + len(seen))
        ).all()
        if c.id not in seen
    ][:limit]
    if not cells:
        return []
    return runs_repo.with_scores(session, cells)

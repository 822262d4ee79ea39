"""Repository functions for eval runs, their cells and scores. Each takes an explicit session."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from promptdeck.store.tables import CacheEntry, Run, RunCell, ScoreRow
from promptdeck.timeutil import utcnow

__all__ = [
    "CellKey",
    "CellWrite",
    "cached_keys",
    "cell_counts",
    "create_run",
    "get_run",
    "insert_cells",
    "iter_cells",
    "list_runs",
    "pending_cells",
    "previous_grades",
    "set_baseline",
    "write_cells",
]


@dataclass(frozen=True)
class CellKey:
    """A cell's identity within a run."""

    prompt_version_id: int
    model: str
    case_key: str
    case_index: int
    repeat: int


@dataclass(frozen=True)
class ScoreWrite:
    """One score to store."""

    name: str
    assertion_type: str
    value: float
    passed: bool
    weight: float
    reason: str | None


@dataclass(frozen=True)
class CellWrite:
    """A finished cell to store."""

    cell_id: int
    status: str
    output: str | None
    score: float | None
    passed: bool | None
    error: str | None
    source: str
    trace_uid: str | None
    latency_ms: float | None
    ttft_ms: float | None
    tokens: int | None
    cost_usd: float
    grading_key: str | None
    scores: tuple[ScoreWrite, ...] = ()


def create_run(session: Session, uid: str, suite: str, config: dict[str, Any]) -> Run:
    """Create a running eval run."""
    run = Run(uid=uid, kind="eval", suite=suite, status="running", config=config)
    session.add(run)
    session.flush()
    return run


def insert_cells(session: Session, run_id: int, cells: Iterable[CellKey]) -> int:
    """Insert pending cells (in batches); return how many."""
    count = 0
    batch: list[dict[str, Any]] = []
    for cell in cells:
        batch.append(
            {
                "run_id": run_id,
                "prompt_version_id": cell.prompt_version_id,
                "model": cell.model,
                "case_key": cell.case_key,
                "case_index": cell.case_index,
                "repeat": cell.repeat,
                "status": "pending",
                "cost_usd": 0.0,
            }
        )
        if len(batch) >= 1000:
            session.execute(RunCell.__table__.insert(), batch)  # type: ignore[attr-defined]
            count += len(batch)
            batch = []
    if batch:
        session.execute(RunCell.__table__.insert(), batch)  # type: ignore[attr-defined]
        count += len(batch)
    return count


def pending_cells(
    session: Session, run_id: int, after_id: int = 0, limit: int = 500
) -> list[RunCell]:
    """Return the next pending cells of a run, by id (for streaming through big runs)."""
    query = (
        select(RunCell)
        .where(RunCell.run_id == run_id, RunCell.status == "pending", col(RunCell.id) > after_id)
        .order_by(col(RunCell.id))
        .limit(limit)
    )
    return list(session.exec(query))


def write_cells(session: Session, writes: Sequence[CellWrite]) -> None:
    """Store finished cells and their scores (one transaction for the batch)."""
    now = utcnow()
    for w in writes:
        session.execute(
            update(RunCell)
            .where(col(RunCell.id) == w.cell_id)
            .values(
                status=w.status,
                output=w.output,
                score=w.score,
                passed=w.passed,
                error=w.error,
                source=w.source,
                trace_uid=w.trace_uid,
                latency_ms=w.latency_ms,
                ttft_ms=w.ttft_ms,
                tokens=w.tokens,
                cost_usd=w.cost_usd,
                grading_key=w.grading_key,
                finished_at=now,
            )
        )
        session.execute(ScoreRow.__table__.delete().where(ScoreRow.cell_id == w.cell_id))  # type: ignore[attr-defined]
        for s in w.scores:
            session.add(
                ScoreRow(
                    cell_id=w.cell_id,
                    name=s.name,
                    assertion_type=s.assertion_type,
                    value=s.value,
                    passed=s.passed,
                    weight=s.weight,
                    reason=s.reason,
                )
            )


def previous_grades(
    session: Session, key: CellKey, grading_key: str, output: str
) -> tuple[RunCell, list[ScoreRow]] | None:
    """Return an earlier graded cell with the same identity, assertions and output."""
    cell = session.exec(
        select(RunCell)
        .where(
            RunCell.prompt_version_id == key.prompt_version_id,
            RunCell.model == key.model,
            RunCell.case_key == key.case_key,
            RunCell.repeat == key.repeat,
            RunCell.grading_key == grading_key,
            RunCell.status == "done",
            RunCell.output == output,
        )
        .order_by(col(RunCell.id).desc())
    ).first()
    if cell is None or cell.id is None:
        return None
    scores = list(
        session.exec(select(ScoreRow).where(ScoreRow.cell_id == cell.id).order_by(col(ScoreRow.id)))
    )
    return cell, scores


def cell_counts(session: Session, run_id: int) -> dict[str, int]:
    """Return counts of a run's cells: total, pending, passed, failed, errors, and cost."""
    rows = session.exec(
        select(RunCell.status, RunCell.passed, func.count(), func.sum(RunCell.cost_usd))
        .where(RunCell.run_id == run_id)
        .group_by(col(RunCell.status), col(RunCell.passed))
    ).all()
    counts = {"total": 0, "pending": 0, "passed": 0, "failed": 0, "errors": 0}
    cost = 0.0
    for status, passed, n, spent in rows:
        counts["total"] += n
        cost += float(spent or 0)
        if status == "pending":
            counts["pending"] += n
        elif status == "error":
            counts["errors"] += n
        elif passed:
            counts["passed"] += n
        else:
            counts["failed"] += n
    counts["cost_micro"] = round(cost * 1_000_000)
    return counts


def iter_cells(
    session: Session, run_id: int, batch: int = 1000
) -> Iterator[tuple[RunCell, list[ScoreRow]]]:
    """Yield a run's cells with their scores, by case then prompt, model and repeat."""
    last = 0
    while True:
        cells = list(
            session.exec(
                select(RunCell)
                .where(RunCell.run_id == run_id, col(RunCell.id) > last)
                .order_by(col(RunCell.id))
                .limit(batch)
            )
        )
        if not cells:
            return
        ids = [c.id for c in cells]
        scores: dict[int, list[ScoreRow]] = {}
        for row in session.exec(
            select(ScoreRow).where(col(ScoreRow.cell_id).in_(ids)).order_by(col(ScoreRow.id))
        ):
            scores.setdefault(row.cell_id, []).append(row)
        for cell in cells:
            yield cell, scores.get(cell.id or -1, [])
        last = cells[-1].id or last


def get_run(session: Session, uid: str) -> Run | None:
    """Return the run with this uid (or a unique uid prefix)."""
    run = session.exec(select(Run).where(Run.uid == uid)).first()
    if run is not None:
        return run
    matches = list(session.exec(select(Run).where(col(Run.uid).startswith(uid)).limit(2)))
    return matches[0] if len(matches) == 1 else None


def list_runs(session: Session, suite: str | None = None, limit: int = 50) -> list[Run]:
    """Return the newest runs (of one suite, or all)."""
    query = select(Run).where(Run.kind == "eval")
    if suite is not None:
        query = query.where(Run.suite == suite)
    return list(session.exec(query.order_by(col(Run.started_at).desc()).limit(limit)))


def set_baseline(session: Session, run: Run) -> None:
    """Make ``run`` the baseline of its suite (and no other run)."""
    session.execute(update(Run).where(col(Run.suite) == run.suite).values(is_baseline=False))
    session.execute(update(Run).where(col(Run.id) == run.id).values(is_baseline=True))


def cached_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Return which of these exact-cache keys have an entry."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found |= set(
            session.exec(
                select(CacheEntry.key).where(
                    CacheEntry.kind == "exact", col(CacheEntry.key).in_(chunk)
                )
            ).all()
        )
    return found

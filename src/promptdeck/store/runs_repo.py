"""Repository functions for eval runs, their cells and scores. Each takes an explicit session."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from promptdeck.secrecy import scrub
from promptdeck.store.calls_repo import db_value
from promptdeck.store.dialect import RawCursor
from promptdeck.store.leases_repo import PendingCell, StoredAnswer, pending_cells
from promptdeck.store.tables import Run, RunCell, ScoreRow
from promptdeck.timeutil import utcnow

__all__ = [
    "CellKey",
    "CellWrite",
    "PendingCell",
    "PreviousGrade",
    "StoredAnswer",
    "cell_counts",
    "create_run",
    "get_run",
    "insert_cells",
    "iter_cells",
    "list_runs",
    "pending_cells",
    "previous_grades_many",
    "set_baseline",
    "write_cells",
]


@dataclass(frozen=True)
class CellKey:
    """A cell's identity within a run (and its case's description, stored beside it)."""

    prompt_version_id: int
    model: str
    case_key: str
    case_index: int
    repeat: int
    description: str | None = field(default=None, compare=False)


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
    similarity: float | None = None


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
                "case_description": cell.description,
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


def write_cells(session: Session, writes: Sequence[CellWrite]) -> None:
    """Store finished cells and their scores (one transaction for the batch).

    Rows go through the DB-API cursor with ``executemany``: a batch costs well under a
    millisecond per cell, which a run of thousands of cells notices.
    """
    if not writes:
        return
    now = db_value(utcnow())
    cursor = RawCursor(session)
    try:
        cursor.executemany(
            "UPDATE run_cell SET status = ?, output = ?, score = ?, passed = ?, error = ?, "
            "source = ?, trace_uid = ?, latency_ms = ?, ttft_ms = ?, tokens = ?, cost_usd = ?, "
            "grading_key = ?, similarity = ?, finished_at = ? WHERE id = ?",
            [
                (
                    w.status,
                    scrub(w.output) if w.output else w.output,
                    w.score,
                    None if w.passed is None else int(w.passed),
                    scrub(w.error) if w.error else w.error,
                    w.source,
                    w.trace_uid,
                    w.latency_ms,
                    w.ttft_ms,
                    w.tokens,
                    w.cost_usd,
                    w.grading_key,
                    w.similarity,
                    now,
                    w.cell_id,
                )
                for w in writes
            ],
        )
        cursor.executemany("DELETE FROM score WHERE cell_id = ?", [(w.cell_id,) for w in writes])
        cursor.executemany(
            "INSERT INTO score (cell_id, name, assertion_type, value, passed, weight, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    w.cell_id,
                    s.name,
                    s.assertion_type,
                    s.value,
                    int(s.passed),
                    s.weight,
                    scrub(s.reason) if s.reason else s.reason,
                )
                for w in writes
                for s in w.scores
            ],
        )
    finally:
        cursor.close()


@dataclass(frozen=True)
class PreviousGrade:
    """An earlier cell's grade that an unchanged cell can keep.

    Attributes:
        score: The weighted score.
        passed: Whether the cell passed.
        scores: Its score rows (the columns of ``score``), in order.
    """

    score: float
    passed: bool
    scores: list[Row[Any]]


GradeWanted = tuple[CellKey, str, str]
"""A cell's identity, its grading key and its output."""


_GRADES_CHUNK = 400

# For each wanted cell, the latest earlier finished cell with the same identity,
# assertions and output. The subquery walks the (prompt version, model, case, grading
# key) index backwards (its entries end with the row id) and stops at the first
# match: usually the previous run's cell, whatever the number of earlier runs.
_LATEST_GRADES = """
WITH wanted(i, version_id, model, case_key, grading_key, rep, output) AS (VALUES {rows})
SELECT i, c.id, c.score, c.passed
FROM wanted JOIN run_cell AS c ON c.id = (
    SELECT id FROM run_cell
    WHERE prompt_version_id = wanted.version_id AND model = wanted.model
        AND case_key = wanted.case_key AND grading_key = wanted.grading_key
        AND repeat = wanted.rep AND output = wanted.output AND status = 'done'
    ORDER BY id DESC LIMIT 1
)
"""


def previous_grades_many(
    session: Session, wanted: Sequence[GradeWanted]
) -> dict[GradeWanted, PreviousGrade]:
    """Return earlier grades that unchanged cells can keep, in bulk.

    For each wanted cell: the latest earlier finished cell with the same identity,
    assertions (grading key) and output. Cells with none are left out.
    """
    found: dict[GradeWanted, tuple[int, float, bool]] = {}
    cursor = RawCursor(session)
    try:
        for start in range(0, len(wanted), _GRADES_CHUNK):
            chunk = wanted[start : start + _GRADES_CHUNK]
            rows = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            parameters: list[Any] = []
            for i, (key, grading, output) in enumerate(chunk):
                parameters += [
                    i,
                    key.prompt_version_id,
                    key.model,
                    key.case_key,
                    grading,
                    key.repeat,
                    output,
                ]
            cursor.execute(_LATEST_GRADES.format(rows=rows), parameters)
            for i, cell_id, score, passed in cursor.fetchall():
                found[chunk[i]] = (int(cell_id), float(score or 0.0), bool(passed))
    finally:
        cursor.close()
    score_t = ScoreRow.__table__  # type: ignore[attr-defined]
    by_cell: dict[int, list[Row[Any]]] = {cell_id: [] for cell_id, _, _ in found.values()}
    ids = list(by_cell)
    for start in range(0, len(ids), 500):
        stored = session.execute(
            sa_select(score_t)
            .where(score_t.c.cell_id.in_(ids[start : start + 500]))
            .order_by(score_t.c.id)
        )
        for score_row in stored:
            by_cell[score_row.cell_id].append(score_row)
    return {
        item: PreviousGrade(score, passed, by_cell[cell_id])
        for item, (cell_id, score, passed) in found.items()
    }


def cell_counts(session: Session, run_id: int) -> dict[str, int]:
    """Return counts of a run's cells and their cost.

    The counts are ``total``, ``pending``, ``passed``, ``failed``, ``errors`` and
    ``unchecked`` (done, but the case has no assertions); ``cost_micro`` is the cost
    in micro-dollars.
    """
    rows = session.exec(
        select(RunCell.status, RunCell.passed, func.count(), func.sum(RunCell.cost_usd))
        .where(RunCell.run_id == run_id)
        .group_by(col(RunCell.status), col(RunCell.passed))
    ).all()
    counts = {"total": 0, "pending": 0, "passed": 0, "failed": 0, "errors": 0, "unchecked": 0}
    cost = 0.0
    for status, passed, n, spent in rows:
        counts["total"] += n
        cost += float(spent or 0)
        if status == "pending":
            counts["pending"] += n
        elif status == "error":
            counts["errors"] += n
        elif passed is None:  # a case without assertions: nothing was checked
            counts["unchecked"] += n
        elif passed:
            counts["passed"] += n
        else:
            counts["failed"] += n
    counts["cost_micro"] = round(cost * 1_000_000)
    return counts


def iter_cells(
    session: Session, run_id: int, batch: int = 1000
) -> Iterator[tuple[Row[Any], list[Row[Any]]]]:
    """Yield a run's cells with their scores, by case then prompt, model and repeat.

    The cells and scores are light rows (every column of ``run_cell`` and ``score`` as
    attributes), not ORM objects: reading back a big run costs a fifth of the time.
    """
    cell_t = RunCell.__table__  # type: ignore[attr-defined]
    last = 0
    while True:
        cells = session.execute(
            sa_select(cell_t)
            .where(cell_t.c.run_id == run_id, cell_t.c.id > last)
            .order_by(cell_t.c.id)
            .limit(batch)
        ).all()
        if not cells:
            return
        yield from with_scores(session, cells)
        last = cells[-1].id


def with_scores(
    session: Session, cells: Sequence[Row[Any]]
) -> list[tuple[Row[Any], list[Row[Any]]]]:
    """Each cell row with its score rows (in the order they were written), in one query."""
    score_t = ScoreRow.__table__  # type: ignore[attr-defined]
    scores: dict[int, list[Row[Any]]] = {}
    for row in session.execute(
        sa_select(score_t)
        .where(score_t.c.cell_id.in_([c.id for c in cells]))
        .order_by(score_t.c.id)
    ):
        scores.setdefault(row.cell_id, []).append(row)
    return [(cell, scores.get(cell.id, [])) for cell in cells]


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

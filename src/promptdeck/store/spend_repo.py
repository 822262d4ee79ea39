"""Spend sums for budgets and statistics. Each function takes an explicit session.

Budgets shared by several processes (eval workers) read their spend and record their
alerts under a lock per budget: on PostgreSQL ``pg_advisory_xact_lock`` (held to the
end of the transaction), on SQLite the database's write lock, which the single
``INSERT ... WHERE NOT EXISTS`` of an alert takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlmodel import Session

from promptdeck.store.calls_repo import db_value
from promptdeck.store.tables import BudgetEvent, Spend

__all__ = ["alerted_thresholds", "lock_budget", "record_alert_once", "spent"]


def lock_budget(session: Session, budget: str) -> None:
    """Hold budget ``budget``'s lock to the end of the session's transaction (PostgreSQL).

    SQLite has no lock per budget; its write lock serialises every writer, and a
    read sees one consistent snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"budget:{budget}"}
        )


_ALERT_ONCE = text(
    "INSERT INTO budget_event (budget, period_key, threshold, spent_usd, action, created_at) "
    "SELECT :budget, :period_key, :threshold, :spent_usd, :action, :created_at "
    "WHERE NOT EXISTS (SELECT 1 FROM budget_event WHERE budget = :budget "
    "AND period_key = :period_key AND threshold = :threshold) RETURNING id"
)


def record_alert_once(
    session: Session,
    budget: str,
    period_key: str,
    threshold: float,
    spent_usd: float,
    action: str,
    now: datetime,
) -> bool:
    """Record a budget's alert unless a process recorded it already; True when this one did."""
    lock_budget(session, budget)
    row = session.execute(
        _ALERT_ONCE,
        {
            "budget": budget,
            "period_key": period_key,
            "threshold": threshold,
            "spent_usd": spent_usd,
            "action": action,
            "created_at": db_value(now),
        },
    ).first()
    return row is not None


def spent(
    session: Session, since_day: str | None, models: Sequence[str] = (), lock: str | None = None
) -> float:
    """Dollars spent on or after ``since_day`` (``YYYY-MM-DD``; None: ever), on ``models``.

    ``lock``: a budget's name, to sum under its lock (see :func:`lock_budget`).
    """
    if lock is not None:
        lock_budget(session, lock)
    s = Spend.__table__  # type: ignore[attr-defined]
    query = select(func.coalesce(func.sum(s.c.cost_usd), 0.0))
    if since_day is not None:
        query = query.where(s.c.day >= since_day)
    if models:
        query = query.where(s.c.model.in_(list(models)))
    return float(session.execute(query).scalar_one())


def alerted_thresholds(session: Session, budget: str, period_key: str) -> set[float]:
    """The thresholds of ``budget`` already alerted in this period."""
    b = BudgetEvent.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(b.c.threshold).where(b.c.budget == budget, b.c.period_key == period_key)
    ).all()
    return {float(r[0]) for r in rows}

"""Spend sums for budgets and statistics. Each function takes an explicit session."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session

from promptdeck.store.tables import BudgetEvent, Spend

__all__ = ["alerted_thresholds", "spent"]


def spent(session: Session, since_day: str | None, models: Sequence[str] = ()) -> float:
    """Dollars spent on or after ``since_day`` (``YYYY-MM-DD``; None: ever), on ``models``."""
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

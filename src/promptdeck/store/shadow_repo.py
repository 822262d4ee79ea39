"""What shadow mode observed: per scope, what each threshold would have served.

Each fresh call made in shadow mode records the stored answer the semantic cache
would have considered (``semantic_shadow``): the most similar entry with the
request's match keys if there was one (``guarded``), else the nearest entry of the
scope, which the match keys refuse. :func:`shadow_curves` folds those rows into a
small precision curve per scope: at each threshold, how many near hits would have
been served and how similar their answers were to the fresh ones, beside how many
equally similar requests the match keys refused (and how similar *their* answers
were: what a threshold alone would have served).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from promptdeck.store.cache_tables import SemanticShadow

__all__ = ["CURVE_THRESHOLDS", "SAME_ANSWER", "CurvePoint", "ShadowCurve", "shadow_curves"]

CURVE_THRESHOLDS = (0.8, 0.85, 0.9, 0.95, 0.99)
"""Thresholds every curve shows (the configured one is added)."""
SAME_ANSWER = 0.9
"""Answers at least this similar to the fresh one count as the same answer."""


@dataclass(frozen=True)
class CurvePoint:
    """What one threshold would have done in one scope.

    Attributes:
        threshold: The similarity a hit must reach.
        served: Near hits it would have served (match keys equal, similarity reached).
        answer_similarity: Their answers' mean similarity to the fresh answers.
        same_answer: How many of them answered the same (``SAME_ANSWER`` or more).
        refused: Requests as similar that the match keys refused.
        refused_answer_similarity: Their answers' mean similarity to the fresh answers.
    """

    threshold: float
    served: int
    answer_similarity: float | None
    same_answer: int
    refused: int
    refused_answer_similarity: float | None

    @property
    def precision(self) -> float | None:
        """The share of served near hits that answered the same (None: none served)."""
        return self.same_answer / self.served if self.served else None


@dataclass(frozen=True)
class ShadowCurve:
    """Shadow mode's observations in one scope.

    Attributes:
        scope: The scope's hash (model, parameters, prompt version, repeat, fixed values).
        model: The model asked for.
        prompt: The prompt's name (None for calls without one).
        calls: Fresh calls compared with a stored answer.
        points: One point per threshold, ascending.
    """

    scope: str
    model: str
    prompt: str | None
    calls: int
    points: tuple[CurvePoint, ...]


def shadow_curves(session: Session, thresholds: Sequence[float]) -> list[ShadowCurve]:
    """Return the precision curve of every scope shadow mode observed (by model, prompt).

    Args:
        session: An open session.
        thresholds: The thresholds to evaluate (sorted and deduplicated here).
    """
    s = SemanticShadow.__table__  # type: ignore[attr-defined]
    levels = sorted(set(thresholds))
    columns: list[Any] = [s.c.scope, s.c.model, s.c.prompt_name, func.count().label("n")]
    for i, level in enumerate(levels):
        for label, guarded in (("s", s.c.guarded != 0), ("r", s.c.guarded == 0)):
            near = and_(guarded, s.c.similarity >= level)
            columns += [
                func.sum(case((near, 1), else_=0)).label(f"{label}{i}"),
                func.avg(case((near, s.c.answer_similarity), else_=None)).label(f"{label}a{i}"),
            ]
        same = and_(s.c.guarded != 0, s.c.similarity >= level, s.c.answer_similarity >= SAME_ANSWER)
        columns.append(func.sum(case((same, 1), else_=0)).label(f"g{i}"))
    rows = session.execute(
        select(*columns)
        .where(s.c.guarded.is_not(None))
        .group_by(s.c.scope, s.c.model, s.c.prompt_name)
        .order_by(s.c.model, s.c.prompt_name, s.c.scope)
    ).all()
    curves = []
    for row in rows:
        data = row._mapping
        points = tuple(
            CurvePoint(
                threshold=level,
                served=int(data[f"s{i}"] or 0),
                answer_similarity=_mean(data[f"sa{i}"]),
                same_answer=int(data[f"g{i}"] or 0),
                refused=int(data[f"r{i}"] or 0),
                refused_answer_similarity=_mean(data[f"ra{i}"]),
            )
            for i, level in enumerate(levels)
        )
        curves.append(ShadowCurve(row.scope, row.model, row.prompt_name, int(row.n), points))
    return curves


def _mean(value: Any) -> float | None:
    return None if value is None else float(value)

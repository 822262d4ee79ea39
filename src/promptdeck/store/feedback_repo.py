"""Feedback on completions, and the review queue of ensemble answers.

Ratings (thumbs, 1–5, a comment) are stored against the completion a trace holds.
The review queue lists ensemble traces whose decision span says ``requires_review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from promptdeck.identity import session_actor
from promptdeck.store.tables import Feedback, Span, Trace
from promptdeck.timeutil import utcnow

__all__ = ["ReviewItem", "add_feedback", "completion_of", "feedback_for", "review_queue"]


def completion_of(session: Session, trace_uid: str) -> int | None:
    """The completion id a trace recorded (None while unwritten or unknown)."""
    trace = session.exec(select(Trace).where(Trace.uid == trace_uid)).first()
    return trace.completion_id if trace is not None else None


def add_feedback(
    session: Session,
    completion_id: int,
    *,
    thumbs: int | None = None,
    rating: int | None = None,
    comment: str | None = None,
    actor: str | None = None,
) -> Feedback:
    """Store a rating of a completion.

    Args:
        session: An open session (committed by the caller).
        completion_id: The completion rated.
        thumbs: ``1`` up, ``-1`` down.
        rating: 1 to 5.
        comment: Free text.
        actor: Who rated it (default: :func:`promptdeck.identity.session_actor`).

    Returns:
        The new row (with its id).

    Raises:
        ValueError: Thumbs other than ±1, or a rating outside 1–5.
    """
    if thumbs is not None and thumbs not in (1, -1):
        raise ValueError("thumbs is 1 (up) or -1 (down)")
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError("rating is 1 to 5")
    row = Feedback(
        completion_id=completion_id,
        thumbs=thumbs,
        rating=rating,
        comment=comment or None,
        created_at=utcnow(),
        actor=actor if actor is not None else session_actor(session),
    )
    session.add(row)
    session.flush()
    return row


def feedback_for(session: Session, completion_id: int) -> list[Feedback]:
    """Every rating of a completion, oldest first."""
    query = (
        select(Feedback).where(Feedback.completion_id == completion_id).order_by(col(Feedback.id))
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class ReviewItem:
    """An ensemble answer a person should look at.

    Attributes:
        trace_uid: The ensemble trace.
        ensemble: The ensemble's name.
        prompt_name: The prompt, if any.
        agreement: The agreement score, if any.
        decision: What the ensemble decided and why.
        started_at: When it ran.
    """

    trace_uid: str
    ensemble: str
    prompt_name: str | None
    agreement: float | None
    decision: str
    started_at: datetime


def review_queue(session: Session, limit: int = 50) -> list[ReviewItem]:
    """Ensemble answers flagged ``requires_review``, newest first."""
    query = (
        select(Trace, Span)
        .join(Span, col(Span.trace_id) == col(Trace.id))
        .where(Trace.kind == "ensemble", Span.name == "ensemble.decision")
        .order_by(col(Trace.id).desc())
    )
    items: list[ReviewItem] = []
    for trace, span in session.exec(query):
        attributes = span.attributes or {}
        if not attributes.get("promptdeck.ensemble.requires_review"):
            continue
        agreement = attributes.get("promptdeck.ensemble.agreement")
        items.append(
            ReviewItem(
                trace_uid=trace.uid,
                ensemble=trace.model or "",
                prompt_name=trace.prompt_name,
                agreement=float(agreement) if agreement is not None else None,
                decision=str(attributes.get("promptdeck.ensemble.decision", "")),
                started_at=trace.started_at,
            )
        )
        if len(items) >= limit:
            break
    return items

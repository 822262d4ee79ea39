"""Recent guardrail decisions that changed a call: blocked or redacted, read from the traces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from promptdeck.store.tables import Span, Trace

__all__ = ["GuardedCall", "recent_guarded_calls"]

OUTCOMES = ("blocked", "redacted")


@dataclass(frozen=True)
class GuardedCall:
    """One guardrail decision that blocked or redacted a call.

    Attributes:
        trace_id: The call's trace id (``promptdeck traces show <id>``).
        started_at: When the call started.
        prompt: The prompt called, if any.
        side: ``input`` or ``output``.
        scanner: The scanner that flagged.
        outcome: ``blocked`` or ``redacted``.
        score: The scanner's score.
        reason: The scanner's reason.
    """

    trace_id: str
    started_at: datetime
    prompt: str | None
    side: str
    scanner: str
    outcome: str
    score: float
    reason: str


def recent_guarded_calls(session: Session, limit: int = 50) -> list[GuardedCall]:
    """Return the newest guardrail decisions that blocked or redacted a call.

    Args:
        session: An open session.
        limit: At most this many decisions.

    Returns:
        Newest first.
    """
    query = (
        select(Span, Trace)
        .where(Span.kind == "guardrail", Span.trace_id == Trace.id)
        .order_by(col(Trace.started_at).desc(), col(Span.id).desc())
    )
    found: list[GuardedCall] = []
    # Guardrail spans are few next to the calls; filter the outcome here, page by page.
    offset, page = 0, 500
    while len(found) < limit:
        rows = list(session.exec(query.offset(offset).limit(page)))
        if not rows:
            break
        for span, trace in rows:
            attrs: dict[str, Any] = span.attributes or {}
            outcome = str(attrs.get("promptdeck.guardrail.outcome", ""))
            if outcome not in OUTCOMES:
                continue
            found.append(
                GuardedCall(
                    trace_id=trace.uid,
                    started_at=trace.started_at,
                    prompt=trace.prompt_name,
                    side=span.name.removeprefix("guardrail."),
                    scanner=str(attrs.get("promptdeck.guardrail.scanner", "")),
                    outcome=outcome,
                    score=float(attrs.get("promptdeck.guardrail.score", 0.0)),
                    reason=str(attrs.get("promptdeck.guardrail.reason", "")),
                )
            )
            if len(found) >= limit:
                break
        offset += page
    return found

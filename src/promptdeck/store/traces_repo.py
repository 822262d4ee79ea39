"""Read traces and their spans. Each function takes an explicit session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from promptdeck.store.tables import CompletionRow, Span, Trace

__all__ = ["TraceDetail", "TraceFilter", "find_trace", "known_uids", "list_traces"]


@dataclass(frozen=True)
class TraceFilter:
    """What the trace list shows.

    Attributes:
        prompt: Only traces of this prompt.
        model: Only traces that asked for this model.
        status: Only ``ok`` or ``error`` traces.
        since: Only traces started at or after this time.
        substring: Match ``prompt`` and ``model`` anywhere, ignoring case (the TUI's
            filter boxes); by default they must be equal.
        source: Only promptdeck's own traces (``promptdeck``) or collected ones (``otlp``).
    """

    prompt: str | None = None
    model: str | None = None
    status: str | None = None
    since: datetime | None = None
    substring: bool = False
    source: str | None = None


def list_traces(
    session: Session, where: TraceFilter | None = None, *, limit: int = 50, offset: int = 0
) -> list[Trace]:
    """Return traces, newest first, one page at a time."""
    query = select(Trace)
    if where is not None:
        if where.prompt and where.substring:
            query = query.where(
                func.lower(col(Trace.prompt_name)).contains(where.prompt.lower(), autoescape=True)
            )
        elif where.prompt:
            query = query.where(Trace.prompt_name == where.prompt)
        if where.model and where.substring:
            query = query.where(
                func.lower(col(Trace.model)).contains(where.model.lower(), autoescape=True)
            )
        elif where.model:
            query = query.where(Trace.model == where.model)
        if where.status:
            query = query.where(Trace.status == where.status)
        if where.since:
            query = query.where(col(Trace.started_at) >= where.since)
        if where.source:
            query = query.where(Trace.source == where.source)
    query = query.order_by(col(Trace.started_at).desc(), col(Trace.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


@dataclass(frozen=True)
class TraceDetail:
    """A trace with its spans (parents before children) and its completion."""

    trace: Trace
    spans: list[Span]
    completion: CompletionRow | None


def known_uids(session: Session, uids: Sequence[str]) -> set[str]:
    """Which of these trace ids are stored."""
    found: set[str] = set()
    for start in range(0, len(uids), 500):
        chunk = list(uids[start : start + 500])
        found.update(session.exec(select(Trace.uid).where(col(Trace.uid).in_(chunk))).all())
    return found


def find_trace(session: Session, uid: str) -> TraceDetail | None:
    """Return the trace whose uid is ``uid`` (or starts with it, when unique)."""
    trace = session.exec(select(Trace).where(Trace.uid == uid)).first()
    if trace is None and len(uid) >= 4:
        found = list(session.exec(select(Trace).where(col(Trace.uid).startswith(uid)).limit(2)))
        trace = found[0] if len(found) == 1 else None
    if trace is None or trace.id is None:
        return None
    spans = _parents_first(
        list(session.exec(select(Span).where(Span.trace_id == trace.id).order_by(col(Span.id))))
    )
    completion = session.get(CompletionRow, trace.completion_id) if trace.completion_id else None
    return TraceDetail(trace, spans, completion)


def _parents_first(spans: list[Span]) -> list[Span]:
    """Spans in id order, except that a parent stored after its child comes before it.

    A collected trace's spans arrive children first (an SDK exports a span when it
    ends), so ids alone would list a child before its parent.
    """
    by_id = {s.id: s for s in spans}
    placed: set[int | None] = set()
    ordered: list[Span] = []
    for span in spans:
        chain: list[Span] = []
        node: Span | None = span
        while node is not None and node.id not in placed:
            placed.add(node.id)
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        ordered += reversed(chain)
    return ordered

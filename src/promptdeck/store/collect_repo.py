"""Write collected traces (``promptdeck collect``): one transaction per export request.

A collected trace is one OpenTelemetry trace: its spans may arrive over several
requests (an SDK exports spans as they end, children before parents), so a request
adds spans to a trace already stored and widens its times, tokens and status. Rows
go through the DB-API cursor with ids given here (under the write lock), so a batch of
hundreds of spans is a few ``executemany`` calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from promptdeck.store.calls_repo import db_value

__all__ = ["SOURCE", "CollectedSpan", "CollectedTrace", "attributes_json", "write_collected"]

SOURCE = "otlp"
_CHUNK = 500


@dataclass
class CollectedSpan:
    """One span's row (its attributes already JSON text)."""

    span_uid: str
    parent_uid: str | None
    name: str
    kind: str
    status: str
    attributes_json: str
    started_at: datetime
    ended_at: datetime

    @property
    def duration_ms(self) -> float:
        """The span's length."""
        return (self.ended_at - self.started_at).total_seconds() * 1000


@dataclass
class CollectedTrace:
    """What one request holds of one trace.

    Attributes:
        uid: The OpenTelemetry trace id (32 hex digits).
        name: The root span's name, when the root is in this request; else None.
        fallback_name: A name for a trace first seen without its root.
        started_at: The earliest start of its spans here.
        ended_at: The latest end.
        error: The first error's message ("" for an error without one); None if none.
        model: The model of its first model call here, if any.
        prompt_name: The promptdeck prompt a span names, if any.
        tokens: Tokens of its model calls here.
        completion: Columns of a ``completion`` row for its first model call, if any.
        spans: Its spans here, parents before children where both are here.
    """

    uid: str
    name: str | None
    fallback_name: str
    started_at: datetime
    ended_at: datetime
    error: str | None = None
    model: str | None = None
    prompt_name: str | None = None
    tokens: int | None = None
    completion: dict[str, Any] | None = None
    spans: list[CollectedSpan] = field(default_factory=list)


def _next_id(cursor: Any, table: str) -> int:
    row = cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
    return int(row[0]) + 1


def _existing(cursor: Any, uids: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for i in range(0, len(uids), _CHUNK):
        chunk = uids[i : i + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = cursor.execute(
            "SELECT uid, id, source, started_at, ended_at, completion_id "  # noqa: S608
            f"FROM trace WHERE uid IN ({marks})",
            chunk,
        ).fetchall()
        found.update({row[0]: row[1:] for row in rows})
    return found


def _insert_completions(cursor: Any, rows: list[tuple[int, dict[str, Any]]]) -> None:
    """Insert completion rows, one ``executemany`` per set of columns (usually one)."""
    by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
    for completion_id, values in rows:
        by_columns.setdefault(tuple(values), []).append(
            [completion_id, *(db_value(v) for v in values.values())]
        )
    for columns, params in by_columns.items():
        names = ["id", *columns]
        cursor.executemany(
            f"INSERT INTO completion ({', '.join(names)}) "  # noqa: S608 - our own columns
            f"VALUES ({', '.join('?' for _ in names)})",
            params,
        )


def _latency(started: str, ended: str) -> float:
    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds() * 1000


def write_collected(session: Session, traces: list[CollectedTrace]) -> list[str]:
    """Store the traces of one request in the session's transaction (committed by the caller).

    Args:
        session: An open session.
        traces: The request's traces.

    Returns:
        One reason per trace left out: its id is one of promptdeck's own traces.
    """
    connection: Any = session.connection().connection.driver_connection
    if not connection.in_transaction:  # take the write lock before choosing ids
        connection.execute("BEGIN IMMEDIATE")
    cursor = connection.cursor()
    rejected: list[str] = []
    try:
        existing = _existing(cursor, [t.uid for t in traces])
        trace_id, span_id, completion_id = (
            _next_id(cursor, "trace"),
            _next_id(cursor, "span"),
            _next_id(cursor, "completion"),
        )
        completion_rows: list[tuple[int, dict[str, Any]]] = []
        trace_rows: list[tuple[Any, ...]] = []
        trace_updates: list[tuple[Any, ...]] = []
        span_rows: list[tuple[Any, ...]] = []
        relink: list[int] = []
        for t in traces:
            started, ended = db_value(t.started_at), db_value(t.ended_at)
            row = existing.get(t.uid)
            if row is not None and row[1] != SOURCE:
                rejected.append(f"trace {t.uid}: the id of one of promptdeck's own traces")
                continue
            new_completion: int | None = None
            if t.completion is not None and (row is None or row[4] is None):
                new_completion = completion_id
                completion_rows.append((completion_id, t.completion))
                completion_id += 1
            if row is None:
                tid = trace_id
                trace_id += 1
                trace_rows.append(
                    (
                        tid,
                        t.uid,
                        t.name or t.fallback_name,
                        t.prompt_name,
                        t.model,
                        "error" if t.error is not None else "ok",
                        new_completion,
                        _latency(started, ended),
                        t.tokens,
                        t.error or None,
                        started,
                        ended,
                        SOURCE,
                    )
                )
            else:
                tid = int(row[0])
                relink.append(tid)
                first, last = min(started, row[2]), max(ended, row[3] or ended)
                trace_updates.append(
                    (
                        t.name,
                        t.prompt_name,
                        t.model,
                        t.error is not None,
                        t.error or None,
                        new_completion,
                        t.tokens,
                        t.tokens,
                        first,
                        last,
                        _latency(first, last),
                        tid,
                    )
                )
            local: dict[str, int] = {}
            for span in t.spans:
                local[span.span_uid] = span_id
                parent = local.get(span.parent_uid) if span.parent_uid else None
                span_rows.append(
                    (
                        span_id,
                        tid,
                        parent,
                        span.name,
                        span.kind,
                        span.status,
                        span.attributes_json,
                        db_value(span.started_at),
                        db_value(span.ended_at),
                        span.duration_ms,
                        span.span_uid,
                        span.parent_uid,
                    )
                )
                span_id += 1
        # Parents before children (foreign keys): completions, traces, then spans.
        _insert_completions(cursor, completion_rows)
        cursor.executemany(
            "INSERT INTO trace (id, uid, name, kind, prompt_name, model, status, "
            "completion_id, latency_ms, total_tokens, cost_usd, cost_known, error, "
            "started_at, ended_at, source) "
            "VALUES (?, ?, ?, 'collected', ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?)",
            trace_rows,
        )
        cursor.executemany(
            "UPDATE trace SET name = coalesce(?, name), "
            "prompt_name = coalesce(prompt_name, ?), model = coalesce(model, ?), "
            "status = CASE WHEN ? THEN 'error' ELSE status END, "
            "error = coalesce(error, ?), completion_id = coalesce(completion_id, ?), "
            "total_tokens = CASE WHEN ? IS NULL THEN total_tokens "
            "ELSE coalesce(total_tokens, 0) + ? END, "
            "started_at = ?, ended_at = ?, latency_ms = ? WHERE id = ?",
            trace_updates,
        )
        cursor.executemany(
            "INSERT INTO span (id, trace_id, parent_id, name, kind, status, attributes, "
            "started_at, ended_at, duration_ms, span_uid, parent_uid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            span_rows,
        )
        # Spans of traces seen before: link children and parents that arrived apart.
        cursor.executemany(
            "UPDATE span SET parent_id = (SELECT p.id FROM span AS p "
            "WHERE p.trace_id = span.trace_id AND p.span_uid = span.parent_uid) "
            "WHERE trace_id = ? AND parent_id IS NULL AND parent_uid IS NOT NULL",
            [(tid,) for tid in relink],
        )
    finally:
        cursor.close()
    return rejected


def attributes_json(attributes: dict[str, Any]) -> str:
    """Attributes as the ``span.attributes`` column stores them."""
    return json.dumps(attributes, ensure_ascii=False, default=str)

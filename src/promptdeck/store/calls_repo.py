"""Write model calls in batches: completion, trace and spans, spend, cache entries.

The gateway collects one :class:`CallRecord` per call in memory and writes them in
one transaction per batch (off the event loop), so recording costs a few tens of
microseconds per call instead of a commit each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from promptdeck.secrecy import scrub_row
from promptdeck.store.dialect import RawCursor

__all__ = ["CallRecord", "SpanRecord", "db_value", "write_calls"]


@dataclass
class SpanRecord:
    """One span of a call.

    Attributes:
        name: Its name (``render``, ``cache.lookup``, ``chat gpt-4o-mini``…).
        kind: Its kind (``render``, ``cache``, ``llm``, ``budget``).
        status: ``ok`` or ``error``.
        started_at: When it started.
        ended_at: When it ended.
        attributes: OpenTelemetry-style attributes (``gen_ai.*`` for model calls).
        parent: Index of the parent span in the record's list (None: the trace root).
    """

    name: str
    kind: str
    status: str
    started_at: datetime
    ended_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None

    @property
    def duration_ms(self) -> float:
        """The span's length."""
        return (self.ended_at - self.started_at).total_seconds() * 1000


@dataclass
class CallRecord:
    """Everything one call writes.

    Attributes:
        trace: Columns of the ``trace`` row (without ids).
        completion: Columns of the ``completion`` row.
        spans: The spans, parents before children.
        spend: Columns of the ``spend`` row, if the call cost anything or used tokens.
        cache: Columns of a new ``cache_entry`` (kind, key, model, scope), if any.
        vector: The semantic vector to store with a new semantic entry.
        canon: The canonical texts it embeds (a JSON list), stored beside it.
        semantic: Columns of a second, semantic ``cache_entry``, if any.
        hit_entry_id: The cache entry that served the call (its hit count grows).
        budget_events: ``budget_event`` rows to add.
        shadow: Columns of a ``semantic_shadow`` row (its fresh completion is this one).
    """

    trace: dict[str, Any]
    completion: dict[str, Any]
    spans: list[SpanRecord] = field(default_factory=list)
    spend: dict[str, Any] | None = None
    cache: dict[str, Any] | None = None
    semantic: dict[str, Any] | None = None
    vector: bytes | None = None
    canon: str | None = None
    hit_entry_id: int | None = None
    budget_events: list[dict[str, Any]] = field(default_factory=list)
    shadow: dict[str, Any] | None = None


def db_value(value: Any) -> Any:
    """Convert a Python value to what its column stores (UTC text, JSON text, 0/1)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use promptdeck.timeutil")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return int(value)
    return value


def _insert(cursor: RawCursor, table: str, values: dict[str, Any]) -> int:
    names = list(values)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - names are our own columns
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    return cursor.insert(sql, scrub_row([db_value(values[n]) for n in names]))


def write_calls(session: Session, records: list[CallRecord]) -> list[int]:
    """Write a batch of calls (through the session's connection, in its transaction).

    Rows go straight through the DB-API cursor: a batch of hundreds of calls costs
    milliseconds, not the ORM's per-row overhead.

    Args:
        session: An open session (committed by the caller).
        records: The calls.

    Returns:
        The completion id of each record, in order.
    """
    cursor = RawCursor(session)
    ids: list[int] = []
    try:
        for record in records:
            completion_id = _insert(cursor, "completion", record.completion)
            ids.append(completion_id)
            trace_id = _insert(cursor, "trace", {**record.trace, "completion_id": completion_id})
            span_ids: list[int] = []
            for span in record.spans:
                parent = span_ids[span.parent] if span.parent is not None else None
                span_ids.append(
                    _insert(
                        cursor,
                        "span",
                        {
                            "trace_id": trace_id,
                            "parent_id": parent,
                            "name": span.name,
                            "kind": span.kind,
                            "status": span.status,
                            "attributes": span.attributes,
                            "started_at": span.started_at,
                            "ended_at": span.ended_at,
                            "duration_ms": span.duration_ms,
                        },
                    )
                )
            if record.spend is not None:
                _insert(cursor, "spend", {**record.spend, "trace_id": trace_id})
            if record.cache is not None:
                values = {**record.cache, "completion_id": completion_id}
                names = list(values)
                cursor.execute(
                    f"INSERT INTO cache_entry ({', '.join(names)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' for _ in names)}) ON CONFLICT DO NOTHING",
                    scrub_row([db_value(values[n]) for n in names]),
                )
            if record.semantic is not None and record.vector is not None:
                entry_id = _insert(
                    cursor, "cache_entry", {**record.semantic, "completion_id": completion_id}
                )
                _insert(
                    cursor,
                    "semantic_vector",
                    {
                        "cache_entry_id": entry_id,
                        "scope": record.semantic["scope"],
                        "vector": record.vector,
                        "canon": record.canon,
                        "created_at": record.semantic["created_at"],
                    },
                )
            if record.hit_entry_id is not None:
                cursor.execute(
                    "UPDATE cache_entry SET hits = hits + 1, last_hit_at = ? WHERE id = ?",
                    [db_value(record.trace["started_at"]), record.hit_entry_id],
                )
            for event in record.budget_events:
                _insert(cursor, "budget_event", event)
            if record.shadow is not None:
                _insert(
                    cursor,
                    "semantic_shadow",
                    {**record.shadow, "fresh_completion_id": completion_id},
                )
    finally:
        cursor.close()
    return ids

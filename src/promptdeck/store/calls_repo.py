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

from promptdeck.secrecy import scrub_rows
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


_PLAIN = frozenset({str, int, float, bytes, type(None)})


def db_value(value: Any) -> Any:
    """Convert a Python value to what its column stores (UTC text, JSON text, 0/1)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use promptdeck.timeutil")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return int(value)
    return value


_SQL: dict[tuple[str, tuple[str, ...], str], str] = {}


def _sql(table: str, names: tuple[str, ...], tail: str = "") -> str:
    """The ``INSERT`` of ``names`` into ``table`` (built once per column list)."""
    key = (table, names, tail)
    sql = _SQL.get(key)
    if sql is None:
        sql = _SQL[key] = (
            f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - names are our own columns
            f"VALUES ({', '.join('?' for _ in names)}){tail}"
        )
    return sql


class _Row:
    """One row to insert: its table, columns and stored values (the ids it refers to last)."""

    __slots__ = ("names", "table", "values")

    def __init__(self, table: str, values: dict[str, Any], *refs: str) -> None:
        self.table = table
        self.names = (*values, *refs)
        self.values = [db_value(v) for v in values.values()]

    def sql(self, tail: str = "") -> str:
        return _sql(self.table, self.names, tail)


_SPAN = ("name", "kind", "status", "attributes", "started_at", "ended_at", "duration_ms")


def _rows(record: CallRecord) -> list[_Row | None]:
    """A record's rows, converted, in the order :func:`write_calls` inserts them."""
    rows: list[_Row | None] = [
        _Row("completion", record.completion),
        _Row("trace", record.trace, "completion_id"),
        _Row("spend", record.spend, "trace_id") if record.spend is not None else None,
        _Row("cache_entry", record.cache, "completion_id") if record.cache is not None else None,
    ]
    if record.semantic is not None and record.vector is not None:
        rows.append(_Row("cache_entry", record.semantic, "completion_id"))
        vector = {
            "scope": record.semantic["scope"],
            "vector": record.vector,
            "canon": record.canon,
            "created_at": record.semantic["created_at"],
        }
        rows.append(_Row("semantic_vector", vector, "cache_entry_id"))
    else:
        rows += [None, None]
    rows.append(
        _Row("semantic_shadow", record.shadow, "fresh_completion_id")
        if record.shadow is not None
        else None
    )
    rows += [_Row("budget_event", event) for event in record.budget_events]
    for span in record.spans:
        values = {
            "name": span.name,
            "kind": span.kind,
            "status": span.status,
            "attributes": span.attributes,
            "started_at": span.started_at,
            "ended_at": span.ended_at,
            "duration_ms": span.duration_ms,
        }
        rows.append(_Row("span", values, "trace_id", "parent_id"))
    return rows


def write_calls(session: Session, records: list[CallRecord]) -> list[int]:
    """Write a batch of calls (through the session's connection, in its transaction).

    Rows go straight through the DB-API cursor, their strings scrubbed in one pass over
    the whole batch: a batch of hundreds of calls costs milliseconds, not the ORM's
    per-row overhead.

    Args:
        session: An open session (committed by the caller).
        records: The calls.

    Returns:
        The completion id of each record, in order.
    """
    made = [_rows(record) for record in records]
    every = [row for rows in made for row in rows if row is not None]
    for row, values in zip(every, scrub_rows([row.values for row in every]), strict=True):
        row.values = values
    cursor = RawCursor(session)
    ids: list[int] = []
    try:
        for record, rows in zip(records, made, strict=True):
            completion, trace, spend, cache, semantic, vector, shadow = rows[:7]
            assert completion is not None and trace is not None
            completion_id = cursor.insert(completion.sql(), completion.values)
            ids.append(completion_id)
            trace_id = cursor.insert(trace.sql(), [*trace.values, completion_id])
            spans = rows[7 + len(record.budget_events) :]
            span_ids: list[int] = []
            for span, span_row in zip(record.spans, spans, strict=True):
                assert span_row is not None
                parent = span_ids[span.parent] if span.parent is not None else None
                span_ids.append(cursor.insert(span_row.sql(), [*span_row.values, trace_id, parent]))
            if spend is not None:
                cursor.insert(spend.sql(), [*spend.values, trace_id])
            if cache is not None:
                cursor.execute(cache.sql(" ON CONFLICT DO NOTHING"), [*cache.values, completion_id])
            if semantic is not None and vector is not None:
                entry_id = cursor.insert(semantic.sql(), [*semantic.values, completion_id])
                cursor.insert(vector.sql(), [*vector.values, entry_id])
            if record.hit_entry_id is not None:
                cursor.execute(
                    "UPDATE cache_entry SET hits = hits + 1, last_hit_at = ? WHERE id = ?",
                    [db_value(record.trace["started_at"]), record.hit_entry_id],
                )
            for event in rows[7 : 7 + len(record.budget_events)]:
                assert event is not None
                cursor.insert(event.sql(), event.values)
            if shadow is not None:
                cursor.insert(shadow.sql(), [*shadow.values, completion_id])
    finally:
        cursor.close()
    return ids

"""Turn received spans into collected traces and store them (one transaction per request).

Each span keeps its attributes exactly as sent; what promptdeck adds about it (span
kind, service, instrumentation scope, status message, events) goes under one key,
``promptdeck.collect``. A span that is a model call (see :mod:`.genai`) gives its
trace a model, tokens and, for the trace's first model call, a ``completion`` row
holding the messages and the answer, so collected traces show, search and become
cases like promptdeck's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from promptdeck.core.collect.decode import ReceivedSpan
from promptdeck.core.collect.genai import LlmCall, read_llm_call
from promptdeck.store.collect_repo import (
    CollectedSpan,
    CollectedTrace,
    attributes_json,
    write_collected,
)
from promptdeck.timeutil import utcnow

__all__ = ["COLLECT_KEY", "build_traces", "store_spans"]

COLLECT_KEY = "promptdeck.collect"
"""The attribute under which a collected span's own details are kept."""


def _moment(nanos: int) -> datetime:
    if nanos <= 0:
        return utcnow()
    return datetime.fromtimestamp(nanos / 1_000_000_000, tz=UTC)


def _parents_first(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    by_id = {s.span_id: s for s in spans}
    placed: set[str] = set()
    ordered: list[ReceivedSpan] = []
    for span in sorted(spans, key=lambda s: s.start_ns):
        chain: list[ReceivedSpan] = []
        node: ReceivedSpan | None = span
        while node is not None and node.span_id not in placed:
            placed.add(node.span_id)
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        ordered += reversed(chain)
    return ordered


def _details(span: ReceivedSpan) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": span.kind}
    if span.service:
        details["service"] = span.service
    if span.scope:
        details["scope"] = span.scope
    if span.status_message:
        details["status"] = span.status_message
    if span.events:
        details["events"] = span.events
    return details


def _completion(trace_uid: str, span: ReceivedSpan, call: LlmCall) -> dict[str, Any]:
    request: dict[str, Any] = {"messages": call.messages, "params": call.params}
    if call.prompt_name:
        request["prompt"] = call.prompt_name
    if call.variables is not None:
        request["variables"] = call.variables
    ended = _moment(span.end_ns)
    return {
        "request_hash": f"otlp:{trace_uid}:{span.span_id}",
        "model": call.model or "unknown",
        "answered_by": call.model,
        "request": request,
        "text": call.output,
        "prompt_tokens": call.input_tokens,
        "completion_tokens": call.output_tokens,
        "cost_usd": 0.0,
        "cost_known": False,
        "latency_ms": max(0.0, (span.end_ns - span.start_ns) / 1_000_000),
        "finish_reason": call.finish_reason,
        "error": (span.status_message or "error") if span.error else None,
        "cached": False,
        "created_at": ended,
    }


def build_traces(spans: Iterable[ReceivedSpan]) -> list[CollectedTrace]:
    """Group a request's spans by trace, each with what its spans say."""
    groups: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        groups.setdefault(span.trace_id, []).append(span)
    traces: list[CollectedTrace] = []
    for uid, members in groups.items():
        ordered = _parents_first(members)
        root = next((s for s in ordered if s.parent_id is None), None)
        trace = CollectedTrace(
            uid=uid,
            name=root.name if root is not None else None,
            fallback_name=ordered[0].name,
            started_at=_moment(min(s.start_ns for s in ordered)),
            ended_at=_moment(max(max(s.end_ns, s.start_ns) for s in ordered)),
        )
        for span in ordered:
            if span.error and trace.error is None:
                trace.error = span.status_message or ""
            call = read_llm_call(span.attributes, span.events)
            if call is not None:
                trace.model = trace.model or call.model
                trace.prompt_name = trace.prompt_name or call.prompt_name
                if call.tokens is not None:
                    trace.tokens = (trace.tokens or 0) + call.tokens
                if trace.completion is None:
                    trace.completion = _completion(uid, span, call)
            started = _moment(span.start_ns)
            ended = max(started, _moment(span.end_ns))
            trace.spans.append(
                CollectedSpan(
                    span_uid=span.span_id,
                    parent_uid=span.parent_id,
                    name=span.name,
                    kind="llm" if call is not None else span.kind,
                    status="error" if span.error else "ok",
                    attributes_json=attributes_json(
                        {**span.attributes, COLLECT_KEY: _details(span)}
                    ),
                    started_at=started,
                    ended_at=ended,
                )
            )
        traces.append(trace)
    return traces


def store_spans(session: Session, spans: list[ReceivedSpan]) -> list[str]:
    """Store one request's spans (the caller commits).

    Returns:
        One reason per trace left out.
    """
    return write_collected(session, build_traces(spans))

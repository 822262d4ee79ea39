"""Export traces as OpenTelemetry's JSON (OTLP/JSON), with ``gen_ai.*`` attribute names.

Each stored trace becomes a root span (the call) whose children are its stored
spans (render, budget, cache look-ups, one ``chat <model>`` span per model tried).
The output loads into any OTLP/JSON consumer (an OpenTelemetry collector's file
receiver, Jaeger, Phoenix…).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from promptdeck import __version__
from promptdeck.secrecy import scrub
from promptdeck.store.traces_repo import TraceDetail

__all__ = ["export_otlp", "otlp_document"]

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_OK = 1
STATUS_ERROR = 2


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"stringValue": scrub(json.dumps(value, ensure_ascii=False, sort_keys=True))}
    # Traces stored before keys were scrubbed on the way in are scrubbed on the way out.
    return {"stringValue": scrub(str(value))}


def _attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "value": _value(value)}
        for key, value in sorted(attributes.items())
        if value is not None
    ]


def _nanos(moment: datetime | None) -> str:
    return str(int(moment.timestamp() * 1_000_000_000)) if moment else "0"


def _span_id(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _trace_spans(detail: TraceDetail) -> list[dict[str, Any]]:
    trace = detail.trace
    trace_id = trace.uid[:32].rjust(32, "0")
    root_id = _span_id(trace.uid, "root")
    root_attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": trace.model,
        "gen_ai.usage.input_tokens": detail.completion.prompt_tokens if detail.completion else None,
        "gen_ai.usage.output_tokens": (
            detail.completion.completion_tokens if detail.completion else None
        ),
        "gen_ai.response.model": detail.completion.answered_by if detail.completion else None,
        "promptdeck.trace.kind": trace.kind,
        "promptdeck.prompt.name": trace.prompt_name,
        "promptdeck.cost_usd": trace.cost_usd if trace.cost_known else None,
        "promptdeck.latency_ms": trace.latency_ms,
        "promptdeck.cached": bool(detail.completion.cached) if detail.completion else None,
    }
    spans: list[dict[str, Any]] = [
        {
            "traceId": trace_id,
            "spanId": root_id,
            "name": trace.name,
            "kind": SPAN_KIND_INTERNAL,
            "startTimeUnixNano": _nanos(trace.started_at),
            "endTimeUnixNano": _nanos(trace.ended_at),
            "attributes": _attributes(root_attributes),
            "status": (
                {"code": STATUS_ERROR, "message": scrub(trace.error or "")}
                if trace.status == "error"
                else {"code": STATUS_OK}
            ),
        }
    ]
    for span in detail.spans:
        parent = _span_id(trace.uid, span.parent_id) if span.parent_id else root_id
        error = span.attributes.get("promptdeck.error")
        spans.append(
            {
                "traceId": trace_id,
                "spanId": _span_id(trace.uid, span.id),
                "parentSpanId": parent,
                "name": span.name,
                "kind": SPAN_KIND_CLIENT if span.kind == "llm" else SPAN_KIND_INTERNAL,
                "startTimeUnixNano": _nanos(span.started_at),
                "endTimeUnixNano": _nanos(span.ended_at),
                "attributes": _attributes(dict(span.attributes)),
                "status": (
                    {"code": STATUS_ERROR, "message": scrub(str(error or ""))}
                    if span.status == "error"
                    else {"code": STATUS_OK}
                ),
            }
        )
    return spans


def otlp_document(details: Sequence[TraceDetail]) -> dict[str, Any]:
    """Build the OTLP/JSON document for some traces."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": _attributes(
                        {"service.name": "promptdeck", "service.version": __version__}
                    )
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "promptdeck.gateway", "version": __version__},
                        "spans": [s for d in details for s in _trace_spans(d)],
                    }
                ],
            }
        ]
    }


def export_otlp(details: Sequence[TraceDetail]) -> str:
    """Return the traces as OTLP/JSON text."""
    return json.dumps(otlp_document(details), ensure_ascii=False, indent=1)

"""Read an OTLP/HTTP trace export (protobuf or JSON) into plain span records.

The wire formats are parsed by opentelemetry-proto's generated classes (protobuf's
own parser, and ``json_format`` for OTLP/JSON after its hex ids are turned into the
base64 protobuf's JSON mapping expects). Attribute values become plain Python values:
strings, ints, floats, bools, lists and dicts (a key-value list), bytes as base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from promptdeck.errors import UsageError

__all__ = ["BadRequestError", "ReceivedSpan", "decode_request", "plain_value"]

_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_ERROR = 2


class BadRequestError(UsageError):
    """A request body that is not an OTLP trace export (answered with 400)."""


@dataclass
class ReceivedSpan:
    """One span as received, with plain attribute values.

    Attributes:
        trace_id: The trace id, 32 lowercase hex digits.
        span_id: The span id, 16 hex digits.
        parent_id: The parent span id (None for a root span).
        name: The span's name.
        kind: ``internal``, ``client``, ``server``…
        start_ns: Start time, nanoseconds since the epoch.
        end_ns: End time, nanoseconds since the epoch.
        error: True when the span's status is ERROR.
        status_message: The status description, if any.
        attributes: The span's attributes, as sent.
        events: Its events: ``{"name", "time_ns", "attributes"}`` each.
        service: The resource's ``service.name``, if any.
        scope: The instrumentation scope's name, if any.
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    service: str | None = None
    scope: str | None = None


def plain_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (None when it holds nothing)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return int(value.int_value)
    if which == "double_value":
        return float(value.double_value)
    if which == "bool_value":
        return bool(value.bool_value)
    if which == "array_value":
        return [plain_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: plain_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: plain_value(kv.value) for kv in pairs}


_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _hex_ids_to_base64(node: dict[str, Any], where: str) -> None:
    for name in _ID_FIELDS:
        text = node.get(name)
        if isinstance(text, str) and text:
            try:
                node[name] = base64.b64encode(bytes.fromhex(text)).decode("ascii")
            except ValueError as exc:
                raise BadRequestError(f"{where}.{name}: not a hex id: {text[:40]!r}", "") from exc


def _json_request(body: bytes) -> Any:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON ({exc})", "send OTLP/JSON") from exc
    except RecursionError as exc:
        raise BadRequestError("the body is nested too deep", "send OTLP/JSON") from exc
    if not isinstance(data, dict):
        raise BadRequestError("the body is not a JSON object", "send OTLP/JSON")
    for r, resource in enumerate(_items(data, "resourceSpans", "resource_spans")):
        for s, scope in enumerate(_items(resource, "scopeSpans", "scope_spans")):
            for n, span in enumerate(_items(scope, "spans")):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                _hex_ids_to_base64(span, where)
                for link in _items(span, "links"):
                    _hex_ids_to_base64(link, where + ".links")
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(data, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, binascii.Error) as exc:
        raise BadRequestError(f"not an OTLP trace export: {exc}", "send OTLP/JSON") from exc
    return request


def _items(node: Any, *names: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    for name in names:
        value = node.get(name)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return []


def _protobuf_request(body: bytes) -> Any:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise BadRequestError(f"not an OTLP protobuf trace export: {exc}", "") from exc
    return request


def decode_request(body: bytes, json_body: bool) -> tuple[list[ReceivedSpan], list[str]]:
    """Parse an export request into spans.

    Args:
        body: The (decompressed) request body.
        json_body: True for OTLP/JSON, False for protobuf.

    Returns:
        The spans, and one reason per span left out (an invalid trace or span id).

    Raises:
        BadRequestError: The body is not an export request at all.
    """
    request = _json_request(body) if json_body else _protobuf_request(body)
    spans: list[ReceivedSpan] = []
    rejected: list[str] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = resource.get("service.name")
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name or None
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8 or not any(span.trace_id):
                    rejected.append(f"span {span.name!r}: invalid trace or span id")
                    continue
                parent = span.parent_span_id.hex() if len(span.parent_span_id) == 8 else None
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=parent,
                        name=span.name,
                        kind=_KINDS.get(span.kind, str(span.kind)),
                        start_ns=int(span.start_time_unix_nano),
                        end_ns=int(span.end_time_unix_nano),
                        error=span.status.code == STATUS_ERROR,
                        status_message=span.status.message or None,
                        attributes=_attributes(span.attributes),
                        events=[
                            {
                                "name": event.name,
                                "time_ns": int(event.time_unix_nano),
                                "attributes": _attributes(event.attributes),
                            }
                            for event in span.events
                        ],
                        service=service if isinstance(service, str) else None,
                        scope=scope,
                    )
                )
    return spans, rejected

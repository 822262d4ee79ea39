"""The OTLP receiver: an OpenTelemetry SDK exporter round trip, JSON, gzip, token, bad bodies."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select

from promptdeck.core.collect.server import Collector, serve
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import CompletionRow, Span, Trace
from promptdeck.store.traces_repo import TraceFilter, find_trace, list_traces


@dataclass
class Running:
    """A collector serving on a free loopback port in a thread of its own."""

    url: str
    collector: Collector


def _start(workspace: Workspace, token: str | None = None, **limits: int) -> Iterator[Running]:
    collector = Collector(workspace.session, token=token, **limits)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    bound: list[int] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        def on_ready(port: int) -> None:
            bound.append(port)
            ready.set()

        loop.run_until_complete(serve(collector, "127.0.0.1", 0, ready=on_ready, stop=stop))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20)
    try:
        yield Running(f"http://127.0.0.1:{bound[0]}/v1/traces", collector)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
        collector.close()


@pytest.fixture
def running(workspace: Workspace) -> Iterator[Running]:
    yield from _start(workspace)


@pytest.fixture
def guarded(workspace: Workspace) -> Iterator[Running]:
    yield from _start(workspace, token="s3cret", max_body=4096, max_decompressed=65536)


def _post(
    url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _sdk_provider(url: str, **exporter: object) -> object:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "shop-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=url, **exporter)))
    return provider


def test_an_sdk_exporter_round_trip_stores_the_call(workspace: Workspace, running: Running) -> None:
    """Spans exported one by one (children first) become one trace with its model call."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: F401

    provider = _sdk_provider(running.url)
    assert isinstance(provider, TracerProvider)
    tracer = provider.get_tracer("shop")
    with tracer.start_as_current_span("handle ticket") as root:
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            span.set_attribute("gen_ai.usage.input_tokens", 12)
            span.set_attribute("gen_ai.usage.output_tokens", 3)
            span.set_attribute("gen_ai.response.finish_reasons", ["stop"])
            span.set_attribute(
                "gen_ai.input.messages",
                json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]
                ),
            )
            span.set_attribute(
                "gen_ai.output.messages",
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": [{"type": "text", "content": "It ships today."}],
                            "finish_reason": "stop",
                        }
                    ]
                ),
            )
        root_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()

    with workspace.session() as session:
        detail = find_trace(session, root_id)
        assert detail is not None
        trace = detail.trace
        assert (trace.source, trace.name, trace.model, trace.status) == (
            "otlp",
            "handle ticket",
            "gpt-4o-mini",
            "ok",
        )
        assert trace.total_tokens == 15
        assert [s.name for s in detail.spans] == ["handle ticket", "chat gpt-4o-mini"]
        assert detail.spans[1].parent_id == detail.spans[0].id  # linked though sent first
        assert detail.completion is not None
        assert detail.completion.text == "It ships today."
        assert detail.completion.finish_reason == "stop"
        assert detail.completion.request["messages"] == [
            {"role": "user", "content": "Where is my order?"}
        ]
        assert detail.spans[1].attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert detail.spans[1].attributes["promptdeck.collect"]["service"] == "shop-bot"
        collected = list_traces(session, TraceFilter(source="otlp"))
        own = list_traces(session, TraceFilter(source="promptdeck"))
    assert [t.uid for t in collected] == [root_id]
    assert own == []


def test_gzip_protobuf_from_the_sdk_exporter(workspace: Workspace, running: Running) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    provider = _sdk_provider(running.url, compression=Compression.Gzip)
    tracer = provider.get_tracer("shop")  # type: ignore[attr-defined]
    with tracer.start_as_current_span("unknown work") as span:
        span.set_attribute("shop.items", [1, 2, 3])
    provider.shutdown()  # type: ignore[attr-defined]
    with workspace.session() as session:
        spans = list(session.exec(select(Span)))
        traces = list(session.exec(select(Trace)))
    assert [s.attributes["shop.items"] for s in spans] == [[1, 2, 3]]
    assert traces[0].model is None and traces[0].completion_id is None


def _json_export(trace_id: str = "5b8efff798038103d269b633813fc60c") -> dict[str, object]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "openinference"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": "eee19b7ec3c1b174",
                                "name": "ChatCompletion",
                                "kind": 3,
                                "startTimeUnixNano": "1763661600000000000",
                                "endTimeUnixNano": "1763661601500000000",
                                "status": {"code": 2, "message": "rate limited"},
                                "attributes": [
                                    {
                                        "key": "openinference.span.kind",
                                        "value": {"stringValue": "LLM"},
                                    },
                                    {"key": "llm.model_name", "value": {"stringValue": "claude-x"}},
                                    {
                                        "key": "llm.input_messages.0.message.role",
                                        "value": {"stringValue": "user"},
                                    },
                                    {
                                        "key": "llm.input_messages.0.message.content",
                                        "value": {"stringValue": "hello"},
                                    },
                                    {"key": "llm.token_count.total", "value": {"intValue": "9"}},
                                ],
                            },
                            {"traceId": "", "spanId": "eee19b7ec3c1b175", "name": "no trace id"},
                        ],
                    }
                ],
            }
        ]
    }


def test_json_with_gzip_and_a_partial_success(workspace: Workspace, running: Running) -> None:
    document = _json_export()
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]  # type: ignore[index]
    spans[1]["traceId"] = "zz"
    body = gzip.compress(json.dumps(document).encode())
    status, answer = _post(running.url, body, "application/json", {"Content-Encoding": "gzip"})
    assert status == 400  # a hex id that is not hex: the whole body is refused
    assert "not a hex id" in json.loads(answer)["message"]
    # The span without a trace id alone is left out.
    body = gzip.compress(json.dumps(_json_export()).encode())
    status, answer = _post(running.url, body, "application/json", {"Content-Encoding": "gzip"})
    assert status == 200
    reply = json.loads(answer)
    assert reply["partialSuccess"]["rejectedSpans"] == "1"
    with workspace.session() as session:
        (trace,) = list(session.exec(select(Trace)))
        completion = session.get(CompletionRow, trace.completion_id)
    assert (trace.uid, trace.model, trace.status, trace.error) == (
        "5b8efff798038103d269b633813fc60c",
        "claude-x",
        "error",
        "rate limited",
    )
    assert trace.total_tokens == 9 and trace.latency_ms == pytest.approx(1500)
    assert completion is not None
    assert completion.request["messages"] == [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", "application/x-protobuf"),
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"resourceSpans": "nope"}', "application/json"),
    ],
)
def test_malformed_bodies_are_400_and_the_server_lives_on(
    running: Running, body: bytes, content_type: str
) -> None:
    status, answer = _post(running.url, body, content_type)
    assert status == 400
    if content_type == "application/json":
        assert json.loads(answer)["code"] == 3
    status, _ = _post(running.url, json.dumps(_json_export()).encode(), "application/json")
    assert status == 200


def test_an_empty_export_is_accepted(running: Running) -> None:
    assert _post(running.url, b"", "application/x-protobuf") == (200, b"")
    assert _post(running.url, b"{}", "application/json") == (200, b"{}")


def test_a_token_is_required_when_set(guarded: Running) -> None:
    body = json.dumps({}).encode()
    assert _post(guarded.url, body, "application/json")[0] == 401
    wrong = {"Authorization": "Bearer s3cre"}
    assert _post(guarded.url, body, "application/json", wrong)[0] == 401
    right = {"Authorization": "Bearer s3cret"}
    assert _post(guarded.url, body, "application/json", right)[0] == 200
    assert _post(guarded.url, body, "text/plain", right)[0] == 415


def test_bodies_past_the_limits_are_413(guarded: Running) -> None:
    auth = {"Authorization": "Bearer s3cret"}
    big = b"{" + b" " * 5000 + b"}"
    assert _post(guarded.url, big, "application/json", auth)[0] == 413
    bomb = gzip.compress(b"{" + b" " * 1_000_000 + b"}")
    assert len(bomb) < 4096
    headers = {**auth, "Content-Encoding": "gzip"}
    assert _post(guarded.url, bomb, "application/json", headers)[0] == 413
    assert _post(guarded.url, b"\x1f\x8b junk", "application/json", headers)[0] == 400

"""Benchmark ``promptdeck collect`` (not a timed test).

A load generator on loopback sends 100,000 spans (50,000 traces: a root span and a
``chat`` span with GenAI attributes, messages and answer) as OTLP/HTTP protobuf, in
batches of 512, to a real ``promptdeck collect`` process. Then it checks nothing
was lost (the span count, and a sample of spans compared byte for byte with what
was sent: name, ids, attributes) and times the Traces screen's first page query.

Targets: ingest >= 5,000 spans/s; nothing lost; the first page in < 100 ms.

Usage::

    .venv/bin/python bench/collect.py [--spans 100000] [--batch 512]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _spans(count: int, seed: int = 3) -> list[tuple[Span, dict[str, Any]]]:
    """``count`` spans, two per trace, with the attributes each should store."""
    rng = random.Random(seed)
    start = 1_763_661_600_000_000_000
    out: list[tuple[Span, dict[str, Any]]] = []
    for n in range(count // 2):
        trace_id = rng.getrandbits(128).to_bytes(16, "big")
        root_id, chat_id = (
            rng.getrandbits(64).to_bytes(8, "big"),
            rng.getrandbits(64).to_bytes(8, "big"),
        )
        t0 = start + n * 1_000_000
        question = f"Order {n}: where is my parcel? ({rng.random():.6f}) «ünïcode»"
        root_attrs = {"http.route": "/ask", "shop.request": n}
        chat_attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 40 + n % 7,
            "gen_ai.usage.output_tokens": 12,
            "gen_ai.request.temperature": 0.2,
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": question}]}]
            ),
            "gen_ai.output.messages": json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": f"It ships on day {n % 30}."}],
                        "finish_reason": "stop",
                    }
                ]
            ),
        }
        chat = Span(
            trace_id=trace_id,
            span_id=chat_id,
            parent_span_id=root_id,
            name="chat gpt-4o-mini",
            kind=3,
            start_time_unix_nano=t0 + 1000,
            end_time_unix_nano=t0 + 900_000,
            attributes=[_kv(k, v) for k, v in chat_attrs.items()],
        )
        root = Span(
            trace_id=trace_id,
            span_id=root_id,
            name="POST /ask",
            kind=2,
            start_time_unix_nano=t0,
            end_time_unix_nano=t0 + 950_000,
            attributes=[_kv(k, v) for k, v in root_attrs.items()],
        )
        out += [(chat, chat_attrs), (root, root_attrs)]  # children end (and export) first
    return out


def _request(batch: list[tuple[Span, dict[str, Any]]]) -> bytes:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(_kv("service.name", "bench-shop"))
    scope = resource.scope_spans.add()
    scope.scope.name = "bench"
    scope.spans.extend(span for span, _ in batch)
    return request.SerializeToString()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the collector, send the load, check it, time the first page."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pd-collect-"))
    env = {**os.environ, "PROMPTDECK_WORKSPACE": ""}
    subprocess.run(
        [sys.executable, "-m", "promptdeck", "--headless", "init", str(root / "w")],
        check=True,
        capture_output=True,
        env=env,
    )
    workspace = root / "w"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promptdeck",
            "--headless",
            "-w",
            str(workspace),
            "collect",
            "--port",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stderr is not None
    line = server.stderr.readline()
    port = int(re.search(r":(\d+)/v1/traces", line).group(1))  # type: ignore[union-attr]
    spans = _spans(args.spans)
    bodies = [_request(spans[i : i + args.batch]) for i in range(0, len(spans), args.batch)]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    load = os.getloadavg()[0]
    server_before = _cpu_seconds(server.pid)
    started, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        response = connection.getresponse()
        answer = response.read()
        assert response.status == 200 and answer == b"", (response.status, answer)
    wall = time.perf_counter() - started
    server_cpu = _cpu_seconds(server.pid) - server_before
    load = max(load, os.getloadavg()[0])
    server.terminate()
    server.wait(60)
    print(
        f"sent {len(spans):,} spans in {len(bodies)} requests of {args.batch}: {wall:.2f} s wall, "
        f"{len(spans) / wall:,.0f} spans/s (generator CPU {time.process_time() - cpu:.2f} s; "
        f"load average {load:.1f} on {os.cpu_count()} cores); collector CPU while receiving "
        f"{server_cpu:.2f} s: {len(spans) / server_cpu:,.0f} spans per CPU-second, "
        f"{server_cpu / len(spans) * 1e6:.0f} µs per span"
    )

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from sqlmodel import select

    from promptdeck.core.workspace.workspace import Workspace
    from promptdeck.paths import find_workspace
    from promptdeck.store.tables import Span as SpanRow
    from promptdeck.store.traces_repo import TraceFilter, list_traces
    from promptdeck.tui.screens.traces import PAGE_SIZE

    opened = Workspace.open(find_workspace(workspace))
    with opened.session() as session:
        stored = session.connection().exec_driver_sql("SELECT count(*) FROM span").scalar()
        traces = session.connection().exec_driver_sql("SELECT count(*) FROM trace").scalar()
        linked = (
            session.connection()
            .exec_driver_sql(
                "SELECT count(*) FROM span WHERE parent_uid IS NOT NULL AND parent_id IS NOT NULL"
            )
            .scalar()
        )
        sample = random.Random(5).sample(spans, 1000)
        mismatched = 0
        for span, attrs in sample:
            row = session.exec(select(SpanRow).where(SpanRow.span_uid == span.span_id.hex())).one()
            kept = {k: v for k, v in row.attributes.items() if k != "promptdeck.collect"}
            same = (
                json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()
                == json.dumps(attrs, sort_keys=True, ensure_ascii=False).encode()
                and row.name == span.name
                and (row.parent_uid or "") == span.parent_span_id.hex()
            )
            mismatched += not same
    print(
        f"stored {stored:,} spans in {traces:,} traces; {linked:,} children linked to parents; "
        f"sample of {len(sample)}: {mismatched} differ"
    )
    timings = []
    for _ in range(20):
        with opened.session() as session:
            t0 = time.perf_counter()
            page = list_traces(session, TraceFilter(), limit=PAGE_SIZE)
            timings.append((time.perf_counter() - t0) * 1000)
    with opened.session() as session:
        t0 = time.perf_counter()
        collected = list_traces(session, TraceFilter(source="otlp"), limit=PAGE_SIZE)
        by_source = (time.perf_counter() - t0) * 1000
    timings.sort()
    print(
        f"Traces first page ({len(page)} rows): median {timings[10]:.1f} ms, "
        f"max {timings[-1]:.1f} ms; "
        f"with the source filter ({len(collected)} rows): {by_source:.1f} ms"
    )
    opened.close()
    ok = (
        stored == len(spans) and mismatched == 0 and len(spans) / wall >= 5000 and timings[10] < 100
    )
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()

"""Fixed traces for the Traces and Stats screens: same uids, times and numbers every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.calls_repo import CallRecord, SpanRecord, write_calls

T0 = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)


def _record(
    i: int,
    *,
    model: str,
    prompt: str | None,
    text: str | None,
    latency: float,
    cost: float = 0.0,
    error: str | None = None,
    cached: str | None = None,
) -> CallRecord:
    start = T0 + timedelta(minutes=i)
    end = start + timedelta(milliseconds=latency)
    status = "error" if error else "ok"
    spans = [
        SpanRecord(
            "render",
            "render",
            "ok",
            start,
            start + timedelta(milliseconds=1.5),
            {"promptdeck.prompt.name": prompt},
        ),
        SpanRecord(
            "cache.lookup",
            "cache",
            "ok",
            start,
            start + timedelta(milliseconds=0.4),
            {"promptdeck.cache.kind": "exact", "promptdeck.cache.hit": cached is not None},
        ),
    ]
    if cached is None:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": 40 + i,
            "gen_ai.usage.output_tokens": 10 + i,
            "gen_ai.input.messages": [{"role": "user", "content": f"Question number {i}?"}],
            "promptdeck.retries": 0,
        }
        if error:
            attributes["promptdeck.error"] = error
            attributes["error.type"] = "connection"
        spans.append(SpanRecord(f"chat {model}", "llm", status, start, end, attributes))
    return CallRecord(
        trace={
            "uid": f"{i:02d}" + "ab" * 15,
            "name": f"{prompt}@1" if prompt else "chat",
            "kind": "run",
            "prompt_name": prompt,
            "prompt_version_id": None,
            "model": model,
            "status": status,
            "run_id": None,
            "latency_ms": latency,
            "total_tokens": 0 if error else 50 + 2 * i,
            "cost_usd": cost,
            "error": error,
            "started_at": start,
            "ended_at": end,
        },
        completion={
            "request_hash": f"hash{i % 3}",
            "model": model,
            "answered_by": None if error else model,
            "request": {"cache": cached, "saved_usd": 0.002 if cached else None},
            "text": text,
            "prompt_tokens": 0 if error else 40 + i,
            "completion_tokens": 0 if error else 10 + i,
            "cost_usd": cost,
            "latency_ms": latency,
            "ttft_ms": None,
            "finish_reason": None if error else "stop",
            "error": error,
            "cached": cached is not None,
            "created_at": end,
        },
        spans=spans,
        spend=None
        if error or cached
        else {
            "day": start.strftime("%Y-%m-%d"),
            "model": model,
            "prompt_name": prompt,
            "run_id": None,
            "cost_usd": cost,
            "tokens": 50 + 2 * i,
            "created_at": end,
        },
    )


def fill(workspace: Workspace) -> None:
    """Write six traces: two models, two prompts, one failure, one cache hit."""
    records = [
        _record(
            0,
            model="openai/gpt-4o-mini",
            prompt="summarize",
            text="- Paris is big.",
            latency=820,
            cost=0.0021,
        ),
        _record(
            1, model="local/smollm2-135m", prompt="summarize", text="- A summary.", latency=2400
        ),
        _record(
            2,
            model="openai/gpt-4o-mini",
            prompt="classify-ticket",
            text="billing",
            latency=640,
            cost=0.0012,
        ),
        _record(
            3,
            model="openai/gpt-4o-mini",
            prompt="classify-ticket",
            text=None,
            latency=35,
            error="cannot reach http://127.0.0.1:9/v1 (connection refused)",
        ),
        _record(
            4,
            model="openai/gpt-4o-mini",
            prompt="summarize",
            text="- Paris is big.",
            latency=3,
            cached="exact",
        ),
        _record(
            5,
            model="local/smollm2-135m",
            prompt="summarize",
            text="- Another summary.",
            latency=1900,
        ),
    ]
    with workspace.session() as session:
        write_calls(session, records)

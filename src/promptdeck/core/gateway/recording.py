"""What a finished gateway call writes: its model spans, trace and completion rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.providers.base import Completion, redact
from promptdeck.core.providers.logprobs import wants_logprobs
from promptdeck.core.providers.router import Attempt
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import CallRecord, SpanRecord

__all__ = ["call_record", "logprobs_record", "note_warnings", "provider_span"]


def logprobs_record(call: InFlight, done: Completion) -> dict[str, Any] | None:
    """What a call's completion row keeps of its answer's token logprobs.

    ``{"tokens": n, "sum": s}`` when the provider gave them; ``{}`` when the call asked
    for them and got none (a cached answer then says so again, rather than being taken
    for one never asked); None when the call did not ask.
    """
    if done.logprobs is not None:
        return done.logprobs.to_json()
    return {} if wants_logprobs(call.params) else None


def note_warnings(call: InFlight, kind: str, lines: Sequence[str]) -> None:
    """Give ``lines`` to the user and record them on the call's ``kind`` span.

    Each kind of warning goes under its own attribute, ``promptdeck.<kind>.warnings``
    (``budget``, ``redaction``, ``guardrail``), on the span of the step that raised it.
    """
    if not lines:
        return
    call.warnings += lines
    for span in reversed(call.spans):
        if span.kind == kind:
            key = f"promptdeck.{kind}.warnings"
            span.attributes[key] = [*span.attributes.get(key, []), *lines]
            return


def provider_span(call: InFlight, attempt: Attempt, cost: float | None) -> SpanRecord:
    """The span of one model tried, with OpenTelemetry ``gen_ai.*`` attributes."""
    done = attempt.completion
    start = datetime.fromtimestamp(attempt.started, tz=call.started.tzinfo)
    params = attempt.params or call.params  # a fallback alias has parameters of its own
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": attempt.provider,
        "gen_ai.system": attempt.target.model.split("/", 1)[0],
        "gen_ai.request.model": attempt.target.model,
        "gen_ai.response.model": done.answered_by or None,
        "gen_ai.request.temperature": params.get("temperature"),
        "gen_ai.request.max_tokens": params.get("max_tokens"),
        "gen_ai.request.seed": params.get("seed"),
        "gen_ai.usage.input_tokens": done.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": done.usage.completion_tokens,
        "gen_ai.response.finish_reasons": [done.finish_reason] if done.finish_reason else [],
        "gen_ai.input.messages": [dict(m) for m in call.spec.messages],
        "gen_ai.output.text": done.text,
        "promptdeck.alias": attempt.target.name,
        "promptdeck.latency_ms": round(done.latency_ms, 3),
        "promptdeck.ttft_ms": done.ttft_ms,
        "promptdeck.cost_usd": cost,
        "promptdeck.retries": done.retries,
        "promptdeck.fallback_reason": attempt.reason,
    }
    if done.error:
        attributes["error.type"] = str(done.error_kind)
        attributes["promptdeck.error"] = done.error
    return SpanRecord(
        f"chat {attempt.target.model}",
        "llm",
        "ok" if done.ok else "error",
        start,
        start + timedelta(milliseconds=done.latency_ms),
        {k: v for k, v in attributes.items() if v is not None},
    )


def call_record(
    call: InFlight, done: Completion, hit: CacheHit | None, ended: datetime
) -> CallRecord:
    """The trace and completion rows of a finished call (spend and caches are added after).

    Args:
        call: The call, its spans complete.
        done: Its final answer (or error value).
        hit: The cache entry that served it, if any.
        ended: When it ended (UTC).
    """
    spec = call.spec
    cached_kind = done.cached
    request: dict[str, Any] = {
        "messages": [dict(m) for m in spec.messages],
        "params": call.params,
        "repeat": spec.repeat,
        "cache": cached_kind,
    }
    if spec.response_format is not None:
        request["response_format"] = dict(spec.response_format)
    if spec.column_override:
        request["column_override"] = dict(spec.column_override)
    if hit is not None:
        request.update(
            saved_usd=hit.cost_usd,
            saved_ms=max(0.0, hit.latency_ms - done.latency_ms),
            source_completion_id=hit.completion_id,
        )
    if call.similarity is not None:
        request["similarity"] = call.similarity
    logprobs = logprobs_record(call, done) if done.ok else None
    if logprobs is not None:
        request["logprobs"] = logprobs
    error = redact(done.error) if done.error else None
    return CallRecord(
        trace={
            "uid": call.uid,
            "name": spec.name,
            "kind": spec.kind,
            "prompt_name": spec.prompt_name,
            "prompt_version_id": spec.prompt_version_id,
            "model": spec.model,
            "status": "ok" if done.ok else "error",
            "run_id": spec.run_id,
            "latency_ms": (time.perf_counter() - call.perf) * 1000,
            "total_tokens": done.usage.total_tokens,
            "cost_usd": done.cost_usd or 0.0,
            "cost_known": done.cost_usd is not None,
            "error": error,
            "started_at": call.started,
            "ended_at": ended,
        },
        completion={
            "request_hash": call.rhash,
            "model": spec.model,
            "answered_by": done.answered_by or None,
            "request": request,
            "text": done.text if done.ok else None,
            "prompt_tokens": done.usage.prompt_tokens,
            "completion_tokens": done.usage.completion_tokens,
            "cost_usd": done.cost_usd or 0.0,
            "cost_known": done.cost_usd is not None,
            "latency_ms": done.latency_ms,
            "ttft_ms": done.ttft_ms,
            "finish_reason": done.finish_reason,
            "error": error,
            "cached": cached_kind is not None,
            "created_at": ended,
        },
        spans=call.spans,
        hit_entry_id=hit.entry_id if hit is not None and hit.entry_id > 0 else None,
    )

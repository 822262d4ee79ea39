"""The trace an ensemble call records.

One trace of kind ``ensemble``: a root span, one ``ensemble.member`` span per member
(its answer, tokens, latency, cost, cache state and a link to the member's own
trace) and an ``ensemble.decision`` span (agreement, matrix, chosen members,
``requires_review``, the decision). The completion row holds the final answer and
every alternative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from promptdeck.core.gateway.keys import request_hash
from promptdeck.core.providers.base import Completion
from promptdeck.core.providers.params import effective_params
from promptdeck.store.calls_repo import CallRecord, SpanRecord
from promptdeck.timeutil import utcnow

if TYPE_CHECKING:
    from promptdeck.config import EnsembleConfig
    from promptdeck.core.compare.ensemble_result import MemberAnswer
    from promptdeck.core.gateway.spec import CallSpec

__all__ = ["EnsembleTrace", "ensemble_record"]


@dataclass(frozen=True)
class EnsembleTrace:
    """What an ensemble call records.

    Attributes:
        name: The ensemble's name.
        config: Its configuration.
        uid: The trace's id.
        started: When the call started.
        done: The final answer (or the error value).
        members: Every member's outcome.
        agreement: The agreement score, if any.
        matrix: The similarity matrix of the answers, if computed.
        chosen: The members the answer comes from.
        requires_review: True when a person should decide.
        decision: One line saying what was decided.
        judge_trace: The judge call's trace, for the judge strategy.
    """

    name: str
    config: EnsembleConfig
    uid: str
    started: datetime
    done: Completion
    members: Sequence[MemberAnswer]
    agreement: float | None
    matrix: tuple[tuple[float, ...], ...]
    chosen: tuple[str, ...]
    requires_review: bool
    decision: str
    judge_trace: str | None


def ensemble_record(
    spec: CallSpec, trace: EnsembleTrace, defaults: Mapping[str, Any]
) -> CallRecord:
    """The rows of an ensemble's own trace: its spans and its completion.

    Its spend is not recorded: the members' traces already hold it.

    Args:
        spec: The ensemble call.
        trace: What the ensemble decided, and from what.
        defaults: The workspace's call parameters (``[params]``).
    """
    name, config, uid, started = trace.name, trace.config, trace.uid, trace.started
    done, members = trace.done, trace.members
    ended = utcnow()
    spans = [
        SpanRecord(
            f"ensemble {name}",
            "ensemble",
            "ok" if done.ok else "error",
            started,
            ended,
            {
                "promptdeck.ensemble.name": name,
                "promptdeck.ensemble.strategy": config.strategy,
                "promptdeck.ensemble.members": list(config.members),
                "promptdeck.cost_usd": done.cost_usd,
            },
        )
    ]
    for answer in members:
        member_done = answer.result.completion
        attributes: dict[str, Any] = {
            "promptdeck.ensemble.member": answer.member,
            "promptdeck.link.trace_id": answer.result.trace_id,
            "gen_ai.output.text": member_done.text,
            "gen_ai.usage.input_tokens": member_done.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": member_done.usage.completion_tokens,
            "promptdeck.latency_ms": round(member_done.latency_ms, 3),
            "promptdeck.cost_usd": member_done.cost_usd,
            "promptdeck.cache": answer.result.cache,
        }
        if member_done.error:
            attributes["promptdeck.error"] = member_done.error
        spans.append(
            SpanRecord(
                f"member {answer.member}",
                "ensemble.member",
                "ok" if member_done.ok else "error",
                started,
                started + timedelta(milliseconds=member_done.latency_ms),
                attributes,
                parent=0,
            )
        )
    spans.append(
        SpanRecord(
            "ensemble.decision",
            "ensemble.decision",
            "ok" if done.ok else "error",
            ended,
            ended,
            {
                "promptdeck.ensemble.agreement": trace.agreement,
                "promptdeck.ensemble.threshold": config.agreement_threshold,
                "promptdeck.ensemble.matrix": [list(r) for r in trace.matrix],
                "promptdeck.ensemble.chosen": list(trace.chosen),
                "promptdeck.ensemble.requires_review": trace.requires_review,
                "promptdeck.ensemble.decision": trace.decision,
                "promptdeck.ensemble.judge_trace_id": trace.judge_trace,
            },
            parent=0,
        )
    )
    # The members' own traces hold what each was called with (their aliases' params too).
    params = effective_params(defaults=defaults, prompt=spec.params, override=spec.overrides)
    rhash = request_hash(f"ensemble/{name}", spec.messages, params, spec.response_format)
    record = CallRecord(
        trace={
            "uid": uid,
            "name": f"{spec.name} · ensemble {name}",
            "kind": "ensemble",
            "prompt_name": spec.prompt_name,
            "prompt_version_id": spec.prompt_version_id,
            "model": name,
            "status": "ok" if done.ok else "error",
            "run_id": spec.run_id,
            "latency_ms": done.latency_ms,
            "total_tokens": done.usage.total_tokens,
            "cost_usd": done.cost_usd or 0.0,
            "cost_known": done.cost_usd is not None,
            "error": done.error,
            "started_at": started,
            "ended_at": ended,
        },
        completion={
            "request_hash": rhash,
            "model": name,
            "answered_by": done.answered_by or None,
            "request": {
                "messages": [dict(m) for m in spec.messages],
                "params": params,
                "ensemble": name,
                "requires_review": trace.requires_review,
                "alternatives": {m.member: m.result.completion.text for m in members if m.ok},
            },
            "text": done.text if done.ok else None,
            "prompt_tokens": done.usage.prompt_tokens,
            "completion_tokens": done.usage.completion_tokens,
            "cost_usd": done.cost_usd or 0.0,
            "cost_known": done.cost_usd is not None,
            "latency_ms": done.latency_ms,
            "ttft_ms": None,
            "finish_reason": done.finish_reason,
            "error": done.error,
            "cached": False,
            "created_at": ended,
        },
        spans=spans,
    )
    return record

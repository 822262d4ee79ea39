"""The last stage of a gateway call: price the answer, and make the records it leaves.

:func:`finish` runs once per call, whatever became of it (blocked, served from a
cache, answered, failed): it prices a fresh answer (:meth:`CostBook.charge`), adds
one span per model tried, builds the trace and completion rows
(:func:`~promptdeck.core.gateway.recording.call_record`), the day's spend and the
budgets' events, remembers a fresh answer in the exact and semantic caches, and
returns the :class:`~promptdeck.core.gateway.spec.CallResult`. The records are
handed back with it; the gateway writes them in batches.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway import semantic_stage
from promptdeck.core.gateway.budgets import BudgetGuard
from promptdeck.core.gateway.costs import CostBook
from promptdeck.core.gateway.exact_cache import ExactCache, fresh_hit
from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.gateway.recording import (
    call_record,
    logprobs_record,
    note_warnings,
    provider_span,
)
from promptdeck.core.gateway.semantic import SemanticCache
from promptdeck.core.gateway.spec import CallResult
from promptdeck.core.providers.base import Completion
from promptdeck.core.providers.router import Attempt
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import CallRecord
from promptdeck.timeutil import utcnow

__all__ = ["Recorders", "finish"]


@dataclass(frozen=True)
class Recorders:
    """What the last stage updates: prices, budgets and the caches of one gateway.

    Attributes:
        config: The workspace configuration.
        costs: Prices per alias and model.
        budgets: The running budget totals.
        exact: The exact cache's in-memory state.
        semantic: The semantic cache, when it (or shadow mode) is on.
    """

    config: WorkspaceConfig
    costs: CostBook
    budgets: BudgetGuard
    exact: ExactCache
    semantic: SemanticCache | None


async def finish(
    call: InFlight,
    done: Completion,
    attempts: list[Attempt],
    hit: CacheHit | None,
    parts: Recorders,
) -> tuple[CallResult, CallRecord]:
    """Price a fresh answer, make the call's records, and learn its answer.

    Args:
        call: The call under way.
        done: What became of it.
        attempts: The models tried, in order (none for a blocked or cached call).
        hit: The cache entry that served it, if one did.
        parts: The prices, budgets and caches to update.

    Returns:
        The call's result, and the records to write.
    """
    spec, config = call.spec, parts.config
    if done.ok and done.cached is None:
        answerer = attempts[-1].target if attempts else None
        done = await parts.costs.charge(done, spec.messages, answerer)
    cost = done.cost_usd
    for attempt in attempts:
        call.spans.append(provider_span(call, attempt, cost if attempt.completion.ok else None))
    now = utcnow()
    cached_kind = done.cached
    record = call_record(call, done, hit, now)
    fresh = done.ok and cached_kind is None
    if fresh and (done.cost_usd or done.usage.total_tokens):
        record.spend = {
            "day": now.date().isoformat(),
            "model": done.answered_by or spec.model,
            "prompt_name": spec.prompt_name,
            "run_id": spec.run_id,
            "cost_usd": done.cost_usd or 0.0,
            "tokens": done.usage.total_tokens,
            "created_at": now,
        }
        if config.budgets:
            answered = done.answered_by or call.target.model
            if done.cost_usd is None:
                note_warnings(call, "budget", parts.budgets.unpriced(call.model_name, answered))
            else:
                events, warnings = parts.budgets.add(call.model_name, answered, done.cost_usd)
                record.budget_events = events
                note_warnings(call, "budget", warnings)
    if fresh and spec.cache != "off" and config.cache.exact:
        record.cache = {
            "kind": "exact",
            "key": call.key,
            "model": call.target.model,
            "scope": "",
            "created_at": now,
        }
        parts.exact.remember(call.key, fresh_hit(done, logprobs_record(call, done)))
    shadow_similarity: float | None = None
    if fresh and parts.semantic is not None:
        shadow_similarity = await semantic_stage.learn(parts.semantic, call, done, record, now)
    result = CallResult(
        completion=done,
        trace_id=call.uid,
        cache=cached_kind or ("off" if spec.cache == "off" else "miss"),
        warnings=tuple(call.warnings),
        shadow_similarity=shadow_similarity,
        similarity=call.similarity if cached_kind == "semantic" else None,
    )
    return result, record

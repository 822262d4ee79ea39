"""The exact-cache stage of a gateway call: the look-up, and an answer served from a cache.

:func:`lookup_exact` reads the answer for the call's key (from this process's
unwritten answers, the batch prefetched, or the database) and records a
``cache.lookup`` span. :func:`served` turns a stored answer into the call's
completion (it cost nothing now). :func:`cached_fallback` is what the router asks
for when every model failed: the newest stored answer to the same request.

A call that asks for token logprobs (a ``perplexity`` assertion) is served only by
an entry that recorded what became of them (:func:`serves`): an entry stored
without them is a miss for it, so perplexity is never graded from missing data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlmodel import Session

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway.exact_cache import ExactCache
from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.gateway.keys import request_hash
from promptdeck.core.providers.base import Completion, Usage
from promptdeck.core.providers.logprobs import Logprobs, wants_logprobs
from promptdeck.core.providers.router import ModelRouter, Target
from promptdeck.store import cache_repo
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import SpanRecord
from promptdeck.timeutil import utcnow

__all__ = ["cached_fallback", "lookup_exact", "served", "serves"]


def serves(call: InFlight, hit: CacheHit | None) -> CacheHit | None:
    """The hit, when it can answer the call: one asking for logprobs needs them recorded."""
    if hit is not None and wants_logprobs(call.params) and hit.logprobs is None:
        return None
    return hit


def lookup_exact(call: InFlight, exact: ExactCache, config: WorkspaceConfig) -> CacheHit | None:
    """The exact cache's answer to the call, when it reads the cache (None: a miss)."""
    if call.spec.cache != "read" or not config.cache.exact:
        return None
    start = utcnow()
    hit = serves(call, exact.find(call.key))
    call.spans.append(
        SpanRecord(
            "cache.lookup",
            "cache",
            "ok",
            start,
            utcnow(),
            {"promptdeck.cache.kind": "exact", "promptdeck.cache.hit": hit is not None},
        )
    )
    return hit


def served(call: InFlight, hit: CacheHit, kind: str) -> Completion:
    """The completion of a call answered by a cache (``kind``: exact or semantic)."""
    return Completion(
        text=hit.text,
        usage=Usage(hit.prompt_tokens, hit.completion_tokens),
        cost_usd=0.0,
        latency_ms=(time.perf_counter() - call.perf) * 1000,
        finish_reason=hit.finish_reason,
        cached=kind,
        model=call.spec.model,
        answered_by=hit.answered_by,
        provider="cache",
        logprobs=Logprobs.from_json(hit.logprobs),
    )


def cached_fallback(
    call: InFlight,
    target: Target,
    router: ModelRouter,
    session: Callable[[], AbstractContextManager[Session]],
) -> Completion | None:
    """The newest stored answer to the call's request as ``target`` would get it, if any."""
    spec = call.spec
    params = router.params(target, spec.params, spec.overrides)
    rhash = request_hash(target.model, spec.messages, params, spec.response_format)
    with session() as s:
        hit = cache_repo.latest_for_hash(s, rhash)
    hit = serves(call, hit)
    return served(call, hit, "exact") if hit is not None else None

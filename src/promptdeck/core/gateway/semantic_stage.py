"""The semantic cache's two moments in a gateway call: the look-up, and learning an answer.

:func:`lookup` runs after the exact cache missed: it compares the call by its
variable values (:func:`~promptdeck.core.gateway.semantic.semantic_query`), records
a ``cache.semantic`` span, and returns the stored answer to serve, if any. In shadow
mode nothing is served; the candidate is kept on the call. :func:`learn` runs once a
fresh answer arrived: it stores the answer with its vectors and, in shadow mode,
records how similar the candidate's answer was to the fresh one.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from promptdeck.config import CacheConfig
from promptdeck.core.gateway.exact_cache import fresh_hit
from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.gateway.recording import logprobs_record
from promptdeck.core.gateway.semantic import SemanticCache, semantic_query
from promptdeck.core.providers.base import Completion
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import CallRecord, SpanRecord
from promptdeck.timeutil import utcnow

__all__ = ["learn", "lookup"]


async def lookup(cache: SemanticCache, call: InFlight, config: CacheConfig) -> CacheHit | None:
    """Find the stored answer that may serve ``call`` (None: a miss, or shadow mode).

    Args:
        cache: The semantic cache.
        call: The call (its query, vector, candidate and similarity are set here).
        config: The workspace's ``[cache]`` settings.
    """
    spec = call.spec
    if spec.cache == "off" or not spec.semantic:
        return None
    query = semantic_query(spec, call.target.model, call.params)
    if query is None:
        return None
    start = utcnow()
    call.query = query
    call.vector = await asyncio.to_thread(cache.embed, query)
    found = cache.lookup(query, call.vector, nearest=config.shadow)
    best = found.best
    serve = (
        best is not None
        and best.similarity >= cache.threshold
        and config.semantic
        and not config.shadow
        and spec.cache == "read"
    )
    shown = best or found.nearest
    if config.shadow:
        call.shadow = shown
    call.spans.append(
        SpanRecord(
            "cache.semantic",
            "cache",
            "ok",
            start,
            utcnow(),
            {
                "promptdeck.cache.kind": "semantic",
                "promptdeck.cache.hit": serve,
                "promptdeck.cache.similarity": shown.similarity if shown else None,
                "promptdeck.cache.guarded": shown.guarded if shown else None,
                "promptdeck.cache.threshold": cache.threshold,
                "promptdeck.cache.shadow": config.shadow,
            },
        )
    )
    if not serve or best is None:
        return None
    call.similarity = best.similarity
    return best.hit


async def learn(
    cache: SemanticCache, call: InFlight, done: Completion, record: CallRecord, now: datetime
) -> float | None:
    """Store a fresh answer for later semantic hits; in shadow mode, record the comparison.

    Args:
        cache: The semantic cache.
        call: The call, looked up by :func:`lookup` (nothing happens otherwise).
        done: Its fresh, successful answer.
        record: Its records (the semantic entry, vectors and shadow row are added).
        now: When it finished (UTC).

    Returns:
        In shadow mode, the candidate's similarity (None without one).
    """
    query, vector = call.query, call.vector
    if query is None or vector is None:
        return None
    spec = call.spec
    record.semantic = {
        "kind": "semantic",
        "key": call.uid,
        "model": call.target.model,
        "scope": query.scope,
        "created_at": now,
    }
    record.vector = vector.astype("float32").tobytes()
    record.canon = json.dumps(list(query.texts), ensure_ascii=False)
    hit = fresh_hit(done, logprobs_record(call, done))
    cache.remember(query, hit, vector)
    match = call.shadow
    if match is None:
        return None
    answer_similarity = await asyncio.to_thread(cache.similarity, match.hit.text, done.text)
    record.shadow = {
        "trace_uid": call.uid,
        "model": spec.model,
        "prompt_name": spec.prompt_name,
        "scope": query.scope,
        "candidate_completion_id": match.hit.completion_id if match.hit.completion_id > 0 else None,
        "similarity": match.similarity,
        "answer_similarity": answer_similarity,
        "would_serve": match.guarded and match.similarity >= cache.threshold,
        "guarded": match.guarded,
        "created_at": now,
    }
    return match.similarity

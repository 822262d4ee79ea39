"""Call statistics for the Stats screen: cost, cache and latency percentiles.

Each function takes an explicit session. Percentiles are computed from the
latencies of the most recent calls (``limit``), grouped by model and prompt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from promptdeck.store.tables import CompletionRow, Trace

__all__ = ["CallStat", "call_stats", "percentile"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class CallStat:
    """Calls of one model (and one prompt, or all prompts when ``prompt`` is None).

    Attributes:
        model: The model asked for.
        prompt: The prompt, or None for calls without one (or the model's total).
        calls: Calls made.
        errors: Calls that failed.
        cache_hits: Calls served from a cache.
        cost_usd: Money spent on calls whose cost is known.
        unpriced: Calls whose cost is unknown (a model with no known price).
        tokens: Tokens in and out.
        p50_ms: Median latency of fresh (uncached, successful) calls.
        p95_ms: 95th percentile latency.
        p99_ms: 99th percentile latency.
        latencies: Those latencies, oldest first (for charts).
    """

    model: str
    prompt: str | None
    calls: int
    errors: int
    cache_hits: int
    cost_usd: float
    tokens: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    latencies: tuple[float, ...]
    unpriced: int = 0

    @property
    def cost_text(self) -> str:
        """``$0.0021``; ``$0.0021 + ?`` when some calls' cost is unknown; ``$?`` for none known."""
        if self.unpriced and self.unpriced >= self.calls - self.errors - self.cache_hits:
            return "$?"
        return f"${self.cost_usd:.4f}" + (" + ?" if self.unpriced else "")

    @property
    def hit_rate(self) -> float:
        """Cache hits over successful calls."""
        ok = self.calls - self.errors
        return self.cache_hits / ok if ok else 0.0


@dataclass
class _Acc:
    calls: int = 0
    errors: int = 0
    hits: int = 0
    cost: float = 0.0
    unpriced: int = 0
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)


def call_stats(
    session: Session, *, by_prompt: bool = True, since: datetime | None = None, limit: int = 20_000
) -> list[CallStat]:
    """Return statistics per model (and per prompt when ``by_prompt``), by cost then name."""
    t = Trace.__table__  # type: ignore[attr-defined]
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    query = (
        select(
            t.c.model,
            t.c.prompt_name,
            t.c.status,
            t.c.cost_usd,
            t.c.cost_known,
            t.c.total_tokens,
            c.c.latency_ms,
            c.c.cached,
        )
        .select_from(t)
        .outerjoin(c, c.c.id == t.c.completion_id)
        .order_by(t.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(t.c.started_at >= since)
    groups: dict[tuple[str, str | None], _Acc] = {}
    for row in reversed(session.execute(query).all()):
        key = (str(row.model or "?"), row.prompt_name if by_prompt else None)
        acc = groups.setdefault(key, _Acc())
        acc.calls += 1
        if row.status != "ok":
            acc.errors += 1
        elif row.cached:
            acc.hits += 1
        elif row.latency_ms is not None:
            acc.latencies.append(float(row.latency_ms))
        acc.cost += float(row.cost_usd or 0)
        if row.status == "ok" and not row.cached and not row.cost_known:
            acc.unpriced += 1
        acc.tokens += int(row.total_tokens or 0)
    stats = [
        CallStat(
            model=model,
            prompt=prompt,
            calls=acc.calls,
            errors=acc.errors,
            cache_hits=acc.hits,
            cost_usd=acc.cost,
            tokens=acc.tokens,
            p50_ms=percentile(acc.latencies, 50),
            p95_ms=percentile(acc.latencies, 95),
            p99_ms=percentile(acc.latencies, 99),
            latencies=tuple(acc.latencies),
            unpriced=acc.unpriced,
        )
        for (model, prompt), acc in groups.items()
    ]
    return sorted(stats, key=lambda s: (-s.cost_usd, s.model, s.prompt or ""))

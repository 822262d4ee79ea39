"""Cache look-ups and statistics. Each function takes an explicit session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from promptdeck.store.cache_tables import SemanticVector
from promptdeck.store.jsonsql import json_number, json_text
from promptdeck.store.tables import CacheEntry, CompletionRow, Trace

__all__ = [
    "CacheHit",
    "CacheStat",
    "cache_stats",
    "entry_count",
    "exact_keys",
    "find_exact",
    "find_exact_many",
    "latest_for_hash",
    "semantic_rows",
]

CHUNK = 500
"""Keys per ``IN`` query (well under SQLite's variable limit)."""


@dataclass(frozen=True)
class CacheHit:
    """A stored answer that can serve a request.

    Attributes:
        entry_id: The cache entry.
        completion_id: The stored completion.
        text: The answer.
        prompt_tokens: Tokens in, as first answered.
        completion_tokens: Tokens out, as first answered.
        cost_usd: What the first answer cost (saved by this hit).
        latency_ms: How long the first answer took (saved by this hit).
        finish_reason: As first answered.
        answered_by: The model that first answered.
        logprobs: The answer's token logprobs as first recorded (``{"tokens", "sum"}``),
            ``{}`` when they were asked for and the provider gave none, None when they
            were not asked for.
    """

    entry_id: int
    completion_id: int
    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    finish_reason: str | None
    answered_by: str
    logprobs: dict[str, Any] | None = None


def _logprobs(request: Any) -> dict[str, Any] | None:
    if not isinstance(request, dict):
        return None
    found = request.get("logprobs")
    return found if isinstance(found, dict) else None


def _hit(entry_id: int, row: Any) -> CacheHit:
    return CacheHit(
        entry_id=entry_id,
        completion_id=int(row.id),
        text=row.text or "",
        prompt_tokens=int(row.prompt_tokens or 0),
        completion_tokens=int(row.completion_tokens or 0),
        cost_usd=float(row.cost_usd or 0.0),
        latency_ms=float(row.latency_ms or 0.0),
        finish_reason=row.finish_reason,
        answered_by=row.answered_by or row.model,
        logprobs=_logprobs(row.request),
    )


def find_exact(session: Session, key: str, not_before: datetime | None = None) -> CacheHit | None:
    """Return the answer stored under an exact key (newer than ``not_before``)."""
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    query = (
        select(e.c.id.label("entry_id"), c)
        .join(c, c.c.id == e.c.completion_id)
        .where(e.c.kind == "exact", e.c.key == key, c.c.error.is_(None))
    )
    if not_before is not None:
        query = query.where(e.c.created_at >= not_before)
    row = session.execute(query).first()
    return _hit(int(row.entry_id), row) if row is not None else None


def find_exact_many(
    session: Session, keys: Sequence[str], not_before: datetime | None = None
) -> dict[str, CacheHit]:
    """Return the answers stored under any of these exact keys, by key (one query per 500).

    A key with more than one entry gives its oldest, as :func:`find_exact` does.
    """
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    found: dict[str, CacheHit] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), CHUNK):
        query = (
            select(e.c.id.label("entry_id"), e.c.key.label("entry_key"), c)
            .join(c, c.c.id == e.c.completion_id)
            .where(
                e.c.kind == "exact",
                e.c.key.in_(unique[start : start + CHUNK]),
                c.c.error.is_(None),
            )
            .order_by(e.c.id)
        )
        if not_before is not None:
            query = query.where(e.c.created_at >= not_before)
        for row in session.execute(query):
            if row.entry_key not in found:
                found[row.entry_key] = _hit(int(row.entry_id), row)
    return found


def exact_keys(
    session: Session, keys: Sequence[str], not_before: datetime | None = None
) -> set[str]:
    """Return which of these keys :func:`find_exact` would answer (without loading answers)."""
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    found: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), CHUNK):
        query = (
            select(e.c.key)
            .join(c, c.c.id == e.c.completion_id)
            .where(
                e.c.kind == "exact",
                e.c.key.in_(unique[start : start + CHUNK]),
                c.c.error.is_(None),
            )
        )
        if not_before is not None:
            query = query.where(e.c.created_at >= not_before)
        found.update(session.execute(query).scalars())
    return found


def latest_for_hash(session: Session, request_hash: str) -> CacheHit | None:
    """Return the latest successful fresh answer to a request (for ``on_timeout = "cached"``)."""
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    row = session.execute(
        select(e.c.id.label("entry_id"), c)
        .join(c, c.c.id == e.c.completion_id)
        .where(c.c.request_hash == request_hash, c.c.error.is_(None))
        .order_by(c.c.id.desc())
        .limit(1)
    ).first()
    return _hit(int(row.entry_id), row) if row is not None else None


def semantic_rows(
    session: Session, scope: str, not_before: datetime | None = None
) -> list[tuple[CacheHit, bytes, str | None]]:
    """Return every semantic entry of a scope with its vector and its canonical texts."""
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    v = SemanticVector.__table__  # type: ignore[attr-defined]
    query = (
        select(e.c.id.label("entry_id"), v.c.vector.label("vec"), v.c.canon.label("canon"), c)
        .join(v, v.c.cache_entry_id == e.c.id)
        .join(c, c.c.id == e.c.completion_id)
        .where(v.c.scope == scope, c.c.error.is_(None))
        .order_by(e.c.id)
    )
    if not_before is not None:
        query = query.where(e.c.created_at >= not_before)
    return [(_hit(int(r.entry_id), r), bytes(r.vec), r.canon) for r in session.execute(query)]


@dataclass(frozen=True)
class CacheStat:
    """Cache use for one (cache, model, prompt) group.

    Attributes:
        cache: ``exact`` or ``semantic``.
        model: The model asked for.
        prompt: The prompt's name (None for calls without a prompt).
        hits: Calls served from this cache.
        misses: Calls answered fresh.
        saved_usd: Cost the hits did not spend.
        saved_ms: Latency the hits did not wait.
    """

    cache: str
    model: str
    prompt: str | None
    hits: int
    misses: int
    saved_usd: float
    saved_ms: float

    @property
    def hit_rate(self) -> float:
        """Hits over all calls (0 when there were none)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


def cache_stats(session: Session) -> list[CacheStat]:
    """Return hits, misses and savings per cache, model and prompt."""
    c = CompletionRow.__table__  # type: ignore[attr-defined]
    t = Trace.__table__  # type: ignore[attr-defined]
    cache_kind = json_text(c.c.request, "cache")
    rows = session.execute(
        select(
            c.c.model,
            t.c.prompt_name,
            c.c.cached,
            cache_kind.label("kind"),
            func.count().label("n"),
            func.sum(func.coalesce(json_number(c.c.request, "saved_usd"), 0)).label("usd"),
            func.sum(func.coalesce(json_number(c.c.request, "saved_ms"), 0)).label("ms"),
        )
        .join(t, t.c.completion_id == c.c.id)
        .where(c.c.error.is_(None))
        # The expression, not its label: PostgreSQL reads GROUP BY kind as trace.kind.
        .group_by(c.c.model, t.c.prompt_name, c.c.cached, cache_kind)
    ).all()
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            (row.model, row.prompt_name),
            {"misses": 0, "exact": (0, 0.0, 0.0), "semantic": (0, 0.0, 0.0)},
        )
        if row.cached and row.kind in ("exact", "semantic"):
            n, usd, ms = group[row.kind]
            group[row.kind] = (n + row.n, usd + float(row.usd or 0), ms + float(row.ms or 0))
        else:
            group["misses"] += row.n
    stats: list[CacheStat] = []
    for (model, prompt), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        for kind in ("exact", "semantic"):
            hits, usd, ms = group[kind]
            other = group["semantic" if kind == "exact" else "exact"][0]
            if kind == "semantic" and hits == 0:
                continue
            stats.append(CacheStat(kind, model, prompt, hits, group["misses"] + other, usd, ms))
    return stats


def entry_count(session: Session) -> dict[str, int]:
    """Return how many entries each cache holds."""
    e = CacheEntry.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(e.c.kind, func.count()).group_by(e.c.kind)).all()
    return {str(row[0]): int(row[1]) for row in rows}

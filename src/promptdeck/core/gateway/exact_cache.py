"""The gateway's view of the exact cache: answers known ahead, and those not yet written.

An answer is looked for, in order, among the answers of this process not yet written
(calls are recorded in batches), the answers prefetched for the batch of calls under
way (two generations, so memory stays bounded by two batches), and last the database.
A cache :attr:`~ExactCache.shared` with other processes (eval workers) keeps no
misses: a key missing when its batch was read is looked for in the database again at
call time, where another worker may have written its answer meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlmodel import Session

from promptdeck.core.providers.base import Completion
from promptdeck.store import cache_repo
from promptdeck.store.cache_repo import CacheHit

__all__ = ["ExactCache", "fresh_hit"]


def fresh_hit(done: Completion, logprobs: dict[str, Any] | None = None) -> CacheHit:
    """The cache entry a fresh answer becomes, before it is written (no ids yet).

    An answer whose cost is unknown is remembered as having cost 0: a hit on it saves
    nothing that anyone knows of. ``logprobs`` is what its completion row records
    (:func:`~promptdeck.core.gateway.recording.logprobs_record`).
    """
    return CacheHit(
        entry_id=-1,
        completion_id=-1,
        text=done.text,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        cost_usd=done.cost_usd or 0.0,
        latency_ms=done.latency_ms,
        finish_reason=done.finish_reason,
        answered_by=done.answered_by,
        logprobs=logprobs,
    )


class ExactCache:
    """Exact-cache look-ups for one gateway.

    Args:
        session: Opens a database session.
        not_before: The oldest entry still served (``cache.ttl_days``), or None.

    Attributes:
        shared: Other processes write answers to the same requests meanwhile (eval
            workers): misses read ahead are not trusted, each is looked up again.
    """

    def __init__(
        self,
        session: Callable[[], AbstractContextManager[Session]],
        not_before: Callable[[], datetime | None],
    ) -> None:
        self._session = session
        self._not_before = not_before
        self._unwritten: dict[str, CacheHit] = {}
        # Two generations of prefetched answers (None: a known miss).
        self._prefetched: dict[str, CacheHit | None] = {}
        self._prefetched_before: dict[str, CacheHit | None] = {}
        self.shared = False

    def remember(self, key: str, hit: CacheHit) -> None:
        """Serve this answer to later calls with the same key before it is written."""
        self._unwritten[key] = hit

    async def prefetch(
        self, keys: Sequence[str | None], known: Collection[str] | None = None
    ) -> list[CacheHit | None]:
        """Read the answers of a batch of keys in one query (None keys: not cached).

        Args:
            keys: The batch's keys, in order.
            known: The keys found answered by an earlier look-up: only these are read;
                every other key is taken as a miss without a query.

        Returns:
            Each key's answer, in order (None: a miss).
        """
        self._prefetched_before, self._prefetched = self._prefetched, {}
        asked = [key for key in keys if key is not None]
        if not asked:
            return [None] * len(keys)
        read = asked if known is None else [key for key in asked if key in known]

        def look_up() -> dict[str, CacheHit]:
            with self._session() as session:
                return cache_repo.find_exact_many(session, read, self._not_before())

        hits = await asyncio.to_thread(look_up) if read else {}
        if self.shared:  # a miss now may be answered by another worker before the call
            self._prefetched = dict(hits)
        else:
            self._prefetched = {key: hits.get(key) for key in asked}
        return [hits.get(key) if key is not None else None for key in keys]

    def find(self, key: str) -> CacheHit | None:
        """The answer for a key: unwritten, prefetched, else read from the database."""
        hit = self._unwritten.get(key)
        if hit is not None:
            return hit
        for generation in (self._prefetched, self._prefetched_before):
            if key in generation:
                return generation.pop(key)
        with self._session() as session:
            return cache_repo.find_exact(session, key, self._not_before())

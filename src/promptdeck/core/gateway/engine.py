"""The gateway call: guardrails → budgets → caches → provider → guardrails → record.

Every call becomes a trace of spans (render, guardrail decisions, budget, cache
look-ups, one span per model tried with ``gen_ai.*`` attributes), a completion row,
spend, and cache entries. Guardrails come from the call's :class:`CallSpec`
(:mod:`promptdeck.core.guardrails.policy`): a blocked input never reaches a provider.
Records are buffered and written in batches off the event loop; call
:meth:`Gateway.aclose` (or :meth:`Gateway.flush`) before the process ends.

Failures are values: a call never raises for a model error; its
:class:`CallResult` carries a Completion whose ``error`` says what went wrong.

Around this module: :mod:`~promptdeck.core.gateway.spec` (what a call asks for and
gets), :mod:`~promptdeck.core.gateway.inflight` (a call under way),
:mod:`~promptdeck.core.gateway.guarding` (its guardrails) and
:mod:`~promptdeck.core.gateway.recording` (the rows it writes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway import semantic_stage
from promptdeck.core.gateway.budgets import BudgetGuard
from promptdeck.core.gateway.costs import CostBook
from promptdeck.core.gateway.exact_cache import ExactCache, fresh_hit
from promptdeck.core.gateway.guarding import call_policy, check_input, guard_output, record_checks
from promptdeck.core.gateway.inflight import InFlight, trace_uid
from promptdeck.core.gateway.keys import exact_key, request_hash
from promptdeck.core.gateway.recording import call_record, note_warnings, provider_span
from promptdeck.core.gateway.semantic import Embedder, SemanticCache
from promptdeck.core.gateway.spec import CacheMode, CallResult, CallSpec
from promptdeck.core.guardrails.policy import (
    Policy,
)
from promptdeck.core.providers.base import Completion, ErrorKind, Usage
from promptdeck.core.providers.router import (
    Attempt,
    ModelRouter,
    ProviderFactory,
    Target,
    default_provider_factory,
)
from promptdeck.store import cache_repo
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import CallRecord, SpanRecord, write_calls
from promptdeck.store.db import session_scope
from promptdeck.timeutil import utcnow

if TYPE_CHECKING:
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["CacheMode", "CallResult", "CallSpec", "Gateway", "make_provider_factory"]

FLUSH_DELAY = 0.05
FLUSH_BATCH = 256


def make_provider_factory(config: WorkspaceConfig, root: Path) -> ProviderFactory:
    """Build the provider factory the gateway uses (tests monkeypatch this)."""
    return default_provider_factory(config, root)


class Gateway:
    """Makes model calls for every part of promptdeck.

    Attributes:
        config: The workspace configuration.
        router: Resolves models and runs calls reliably.
        costs: Prices per model.
        budgets: Running totals of the named budgets.
    """

    def __init__(
        self,
        config: WorkspaceConfig,
        root: Path,
        engine: Engine,
        *,
        provider_factory: ProviderFactory | None = None,
        embedder: Embedder | None = None,
        sleep: Any = asyncio.sleep,
    ) -> None:
        self.config = config
        self.root = root
        self.engine = engine
        factory = provider_factory or make_provider_factory(config, root)
        self._factory = factory
        self.router = ModelRouter(config, factory, sleep=sleep)
        self.costs = CostBook(config)
        self.budgets = BudgetGuard(config, self._session)
        self._embedder = embedder
        self.semantic: SemanticCache | None = None
        if config.cache.semantic or config.cache.shadow:
            self.semantic = SemanticCache(
                self.embedder, self._session, config.cache.semantic_threshold, self.not_before
            )
        self._pending: list[CallRecord] = []
        self.exact = ExactCache(self._session, self.not_before)
        self._flush_task: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()

    @classmethod
    def for_workspace(cls, workspace: Workspace, **kwargs: Any) -> Gateway:
        """A gateway over an open workspace."""
        return cls(workspace.config, workspace.paths.root, workspace.engine, **kwargs)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def embedder(self) -> Embedder:
        """Return the sentence embedder (the local MiniLM unless one was injected)."""
        if self._embedder is None:
            from promptdeck.core.providers.embeddings import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    def not_before(self) -> datetime | None:
        """The oldest cache entry still served (``cache.ttl_days``), or None for no limit."""
        ttl = self.config.cache.ttl_days
        return utcnow() - timedelta(days=ttl) if ttl else None

    # -- the call -------------------------------------------------------------------

    def cache_key(self, spec: CallSpec) -> str:
        """Return the exact-cache key this call would use (to count cached cells ahead)."""
        target = self.router.resolve(spec.model)
        params = self.router.params(target, spec.params, spec.overrides)
        rhash = request_hash(target.model, spec.messages, params, spec.response_format)
        return exact_key(rhash, spec.repeat)

    def _begin(self, spec: CallSpec) -> tuple[InFlight, Completion | None]:
        started, perf = utcnow(), time.perf_counter()
        spans: list[SpanRecord] = []
        if spec.render_ms is not None:
            spans.append(
                SpanRecord(
                    "render",
                    "render",
                    "ok",
                    started - timedelta(milliseconds=spec.render_ms),
                    started,
                    {
                        "promptdeck.prompt.name": spec.prompt_name,
                        "promptdeck.prompt.version": spec.prompt_version,
                        "promptdeck.prompt.variables": sorted((spec.variables or {}).keys()),
                    },
                )
            )
        warnings: list[str] = []
        model_name = spec.model
        blocked: Completion | None = None
        if self.config.budgets:
            b_start = utcnow()
            decision = self.budgets.check(spec.model, self.config.resolve_model(spec.model))
            warnings += decision.warnings
            model_name = decision.model
            spans.append(
                SpanRecord(
                    "budget",
                    "budget",
                    "error" if decision.blocked else "ok",
                    b_start,
                    utcnow(),
                    {
                        "promptdeck.budget.model": model_name,
                        "promptdeck.budget.warnings": list(decision.warnings),
                    },
                )
            )
            if decision.blocked:
                blocked = Completion.failure(spec.model, decision.blocked, ErrorKind.BUDGET)
        target = self.router.resolve(model_name)
        params = self.router.params(target, spec.params, spec.overrides)
        rhash = request_hash(target.model, spec.messages, params, spec.response_format)
        call = InFlight(
            spec=spec,
            uid=trace_uid(),
            started=started,
            perf=perf,
            spans=spans,
            model_name=model_name,
            target=target,
            params=params,
            rhash=rhash,
            key=exact_key(rhash, spec.repeat),
            warnings=warnings,
        )
        return call, blocked

    async def prefetch(
        self,
        specs: Sequence[CallSpec],
        keys: Sequence[str | None] | None = None,
        known: Collection[str] | None = None,
    ) -> list[CacheHit | None]:
        """Look up the exact-cache answers of calls about to be made, in one query.

        Each call made later with one of these specs takes its answer (or its miss) from
        this look-up instead of querying the database on the event loop. Use it for
        batches of calls (an eval run's next cells); what is not used is dropped at the
        prefetch after next, so memory stays bounded by two batches.

        Args:
            specs: The calls.
            keys: Each spec's :meth:`cache_key` where the caller has it already.
            known: The keys found answered by an earlier look-up (``exact_keys``): only
                these are read; every other key is taken as a miss without a query.

        Returns:
            Each spec's cached answer, in order (None: a miss, or a spec that does not
            read the cache).
        """
        if not self.config.cache.exact:
            return [None] * len(specs)
        given = keys if keys is not None else [None] * len(specs)
        wanted: list[str | None] = [
            (key or self.cache_key(spec)) if spec.cache == "read" else None
            for spec, key in zip(specs, given, strict=True)
        ]
        return await self.exact.prefetch(wanted, known)

    def _lookup_exact(self, call: InFlight) -> CacheHit | None:
        if call.spec.cache != "read" or not self.config.cache.exact:
            return None
        start = utcnow()
        hit = self.exact.find(call.key)
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

    async def _lookup_semantic(self, call: InFlight) -> CacheHit | None:
        if self.semantic is None:
            return None
        return await semantic_stage.lookup(self.semantic, call, self.config.cache)

    def _served(self, call: InFlight, hit: CacheHit, kind: str) -> Completion:
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
        )

    async def _cached_fallback(self, call: InFlight, target: Target) -> Completion | None:
        params = self.router.params(target, call.spec.params, call.spec.overrides)
        rhash = request_hash(target.model, call.spec.messages, params, call.spec.response_format)
        with self._session() as session:
            hit = cache_repo.latest_for_hash(session, rhash)
        return self._served(call, hit, "exact") if hit is not None else None

    async def call(self, spec: CallSpec) -> CallResult:
        """Make one call: never raises for a model failure (see ``Completion.error``)."""
        if spec.model in self.config.ensembles:
            from promptdeck.core.compare.ensembles import run_ensemble

            return (await run_ensemble(self, spec, spec.model)).result
        policy = self.policy(spec)
        call, blocked = await self._guarded_begin(spec, policy)
        if blocked is not None:
            return await self._finish(call, blocked, [], None)
        spec = call.spec
        hit = self._lookup_exact(call)
        if hit is not None:
            served = await self._guard_output(call, policy, self._served(call, hit, "exact"), [])
            return await self._finish(call, served, [], hit)
        hit = await self._lookup_semantic(call)
        if hit is not None:
            served = self._served(call, hit, "semantic")
            served = await self._guard_output(call, policy, served, [])
            return await self._finish(call, served, [], hit)
        attempts: list[Attempt] = []

        async def fallback(target: Target) -> Completion | None:
            return await self._cached_fallback(call, target)

        done = await self.router.complete(
            call.model_name,
            spec.messages,
            spec.params,
            spec.response_format,
            cached_fallback=fallback,
            attempts=attempts,
            overrides=spec.overrides,
        )
        done = await self._guard_output(call, policy, done, attempts)
        return await self._finish(call, done, attempts, None)

    async def stream(self, spec: CallSpec) -> AsyncIterator[str | CallResult]:
        """Make one call, yielding text deltas as they come, then the :class:`CallResult`."""
        if spec.model in self.config.ensembles:
            result = await self.call(spec)
            if result.completion.ok:
                yield result.completion.text
            yield result
            return
        policy = self.policy(spec)
        call, blocked = await self._guarded_begin(spec, policy)
        if blocked is not None:
            yield await self._finish(call, blocked, [], None)
            return
        spec = call.spec
        # An output rule that may change the answer holds the deltas back until it is checked.
        hold = any(rule.action != "warn" for rule in policy.output)
        hit = self._lookup_exact(call)
        kind = "exact"
        if hit is None:
            hit = await self._lookup_semantic(call)
            kind = "semantic"
        if hit is not None:
            served = await self._guard_output(call, policy, self._served(call, hit, kind), [])
            if served.ok:
                yield served.text
            yield await self._finish(call, served, [], hit)
            return
        done: Completion | None = None
        attempts: list[Attempt] = []
        async for event in self.router.stream(
            call.model_name,
            spec.messages,
            spec.params,
            spec.response_format,
            attempts=attempts,
            overrides=spec.overrides,
        ):
            if isinstance(event, Completion):
                done = event
            elif not hold:
                yield event
        assert done is not None
        done = await self._guard_output(call, policy, done, attempts)
        if hold and done.ok:
            yield done.text
        yield await self._finish(call, done, attempts, None)

    # -- guardrails -------------------------------------------------------------------

    def policy(self, spec: CallSpec) -> Policy:
        """The guardrails of a call: its own, else the workspace's defaults for prompt calls."""
        return call_policy(spec, self.config)

    async def _guarded_begin(
        self, spec: CallSpec, policy: Policy
    ) -> tuple[InFlight, Completion | None]:
        """Apply the input rules (redacting the messages sent), then begin the call."""
        if not policy.input:
            return self._begin(spec)
        spec, decision, error = await check_input(spec, policy, self.config)
        call, blocked = self._begin(spec)
        record_checks(call, decision.checks)
        call.warnings += decision.warnings
        if error is not None:
            blocked = Completion.failure(spec.model, error, ErrorKind.CONFIG)
        elif decision.blocked is not None:
            blocked = Completion.failure(spec.model, decision.blocked, ErrorKind.GUARDRAIL)
        return call, blocked

    async def _guard_output(
        self, call: InFlight, policy: Policy, done: Completion, attempts: list[Attempt]
    ) -> Completion:
        return await guard_output(call, policy, done, attempts, self.router)

    # -- recording --------------------------------------------------------------------

    async def _finish(
        self, call: InFlight, done: Completion, attempts: list[Attempt], hit: CacheHit | None
    ) -> CallResult:
        spec = call.spec
        if done.ok and done.cached is None:
            answerer = attempts[-1].target if attempts else None
            done = await self.costs.charge(done, spec.messages, answerer)
        cost = done.cost_usd
        for attempt in attempts:
            call.spans.append(provider_span(call, attempt, cost if attempt.completion.ok else None))
        ended = utcnow()
        now = ended
        cached_kind = done.cached
        record = call_record(call, done, hit, ended)
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
            if self.config.budgets:
                answered = done.answered_by or call.target.model
                if done.cost_usd is None:
                    note_warnings(call, "budget", self.budgets.unpriced(call.model_name, answered))
                else:
                    events, warnings = self.budgets.add(call.model_name, answered, done.cost_usd)
                    record.budget_events = events
                    note_warnings(call, "budget", warnings)
        if fresh and spec.cache != "off" and self.config.cache.exact:
            record.cache = {
                "kind": "exact",
                "key": call.key,
                "model": call.target.model,
                "scope": "",
                "created_at": now,
            }
            self.exact.remember(call.key, fresh_hit(done))
        shadow_similarity: float | None = None
        if fresh and self.semantic is not None:
            shadow_similarity = await semantic_stage.learn(self.semantic, call, done, record, now)
        self.record(record)
        return CallResult(
            completion=done,
            trace_id=call.uid,
            cache=cached_kind or ("off" if spec.cache == "off" else "miss"),
            warnings=tuple(call.warnings),
            shadow_similarity=shadow_similarity,
            similarity=call.similarity if cached_kind == "semantic" else None,
        )

    # -- batched writes -----------------------------------------------------------------

    def record(self, record: CallRecord) -> None:
        """Queue a finished call's records for the next batched write."""
        self._pending.append(record)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        await self.flush()

    def _write(self, batch: list[CallRecord]) -> None:
        with self._session() as session:
            write_calls(session, batch)

    async def flush(self) -> None:
        """Write every buffered record to the database."""
        async with self._write_lock:
            while self._pending:
                batch, self._pending = self._pending[:FLUSH_BATCH], self._pending[FLUSH_BATCH:]
                await asyncio.to_thread(self._write, batch)

    async def aclose(self) -> None:
        """Write what is buffered and close connection pools."""
        task = self._flush_task
        if task is not None and not task.done():
            await task
        await self.flush()
        closer = getattr(self._factory, "aclose", None)
        if closer is not None:
            await closer()

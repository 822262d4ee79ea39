"""The gateway call: input guardrails → begin → caches → provider → output guardrails → record.

:meth:`Gateway.call` passes a call through each stage once, in that order; each stage
is a module of its own: :mod:`.guarding` (the guardrails on both sides),
:mod:`.begin_stage` (render span, budget, target, parameters, key),
:mod:`.cache_stage` and :mod:`.semantic_stage` (the caches), the router (the
provider, with retries and fallbacks) and :mod:`.record_stage` (price, records, what
the caches learn). Every call becomes a trace of spans, a completion row, spend and
cache entries; a blocked input never reaches a provider. Records are buffered and
written in batches off the event loop; call :meth:`Gateway.aclose` (or
:meth:`Gateway.flush`) before the process ends.

Failures are values: a call never raises for a model error; its
:class:`CallResult` carries a Completion whose ``error`` says what went wrong.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway import begin_stage, cache_stage, record_stage, semantic_stage
from promptdeck.core.gateway.budgets import BudgetGuard
from promptdeck.core.gateway.context_stage import ContextWindows
from promptdeck.core.gateway.costs import CostBook
from promptdeck.core.gateway.early_answers import EarlyAnswer, EarlySource
from promptdeck.core.gateway.exact_cache import ExactCache
from promptdeck.core.gateway.guarding import call_policy, check_input, guard_output, record_checks
from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.gateway.record_stage import Recorders
from promptdeck.core.gateway.semantic import Embedder, SemanticCache
from promptdeck.core.gateway.spec import CacheMode, CallResult, CallSpec
from promptdeck.core.guardrails.policy import (
    Policy,
)
from promptdeck.core.providers.base import Completion, ErrorKind
from promptdeck.core.providers.logprobs import wants_logprobs
from promptdeck.core.providers.router import (
    Attempt,
    ModelRouter,
    ProviderFactory,
    Target,
    default_provider_factory,
)
from promptdeck.store import traces_repo
from promptdeck.store.cache_repo import CacheHit
from promptdeck.store.calls_repo import CallRecord, write_calls
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
        router: ModelRouter | None = None,
    ) -> None:
        self.config = config
        self.root = root
        self.engine = engine
        if router is not None:  # one a run's early start made (its calls under way)
            self.router = router
            self._factory = router.factory
        else:
            factory = provider_factory or make_provider_factory(config, root)
            self._factory = factory
            self.router = ModelRouter(config, factory, sleep=sleep)
        self.early: EarlySource | None = None
        """Answers to requests a run sent before this gateway existed (see
        :mod:`.early_answers`): a call whose request was sent takes its answer."""
        self.costs = CostBook(config)
        self.budgets = BudgetGuard(config, self._session)
        self.windows = ContextWindows(config, root)
        self._embedder = embedder
        self.semantic: SemanticCache | None = None
        if config.cache.semantic or config.cache.shadow:
            self.semantic = SemanticCache(
                self.embedder, self._session, config.cache.semantic_threshold, self.not_before
            )
        self._pending: list[CallRecord] = []
        self.exact = ExactCache(self._session, self.not_before)
        self._recorders = Recorders(config, self.costs, self.budgets, self.exact, self.semantic)
        self._flush_timer: asyncio.TimerHandle | None = None
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
        return begin_stage.cache_key(self.router, spec)

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

    async def call(self, spec: CallSpec) -> CallResult:
        """Make one call: never raises for a model failure (see ``Completion.error``).

        The call passes through its stages once, in order: input guardrails (which may
        redact what is sent), begin (render span, budget, target and key), the exact
        cache, the semantic cache, the provider (with its fallbacks), the output
        guardrails, and the record. A stage that settles the call (a block, a cache hit)
        skips to the output guardrails or the record.
        """
        if spec.model in self.config.ensembles:
            from promptdeck.core.compare.ensembles import run_ensemble

            return (await run_ensemble(self, spec, spec.model)).result
        policy = self.policy(spec)
        call, blocked = await self._guarded_begin(spec, policy)
        if blocked is not None:
            return await self._finish(call, blocked, [], None)
        hit, kind = await self._lookup(call)
        attempts: list[Attempt] = []
        if hit is not None:
            done = cache_stage.served(call, hit, kind)
        else:
            done = await self._complete(call, attempts)
        done = await guard_output(call, policy, done, attempts, self.router)
        return await self._finish(call, done, attempts, hit)

    async def _complete(self, call: InFlight, attempts: list[Attempt]) -> Completion:
        """The provider stage: the answer of a request sent early, else the router's call."""
        early = self.early.take(call.key) if self.early is not None else None
        if early is not None:
            answer = await early  # sent through this router: its retries and fallbacks
            if answer is not None:
                call.uid, call.started = answer.uid, answer.started
                call.perf = time.perf_counter() - answer.seconds
                attempts.extend(answer.attempts)
                return answer.completion
        return await self.router.complete(
            call.model_name,
            call.spec.messages,
            call.spec.params,
            call.spec.response_format,
            cached_fallback=self._fallback_for(call),
            attempts=attempts,
            overrides=call.spec.overrides,
        )

    async def record_early(self, answers: Sequence[EarlyAnswer]) -> int:
        """Record answers to requests sent early that no call took: cost, trace, cache.

        Each is recorded once: one whose trace is already stored (it was taken, or a
        journal is read again after a kill) is skipped. Writes before returning.

        Returns:
            How many were recorded.
        """
        wanted = [a for a in answers if a.completion.ok]
        if not wanted:
            return 0
        with self._session() as session:
            known = traces_repo.known_uids(session, [a.uid for a in wanted])
        recorded = 0
        for answer in wanted:
            if answer.uid in known:
                continue
            known.add(answer.uid)
            call, _ = begin_stage.begin(answer.spec, self.config, self.budgets, self.router)
            call.uid, call.started = answer.uid, answer.started
            call.perf = time.perf_counter() - answer.seconds
            await self._finish(call, answer.completion, list(answer.attempts), None)
            recorded += 1
        await self.flush()
        return recorded

    async def _lookup(self, call: InFlight) -> tuple[CacheHit | None, str]:
        """The caches' stage: the exact cache, then the semantic cache."""
        hit = cache_stage.lookup_exact(call, self.exact, self.config)
        if hit is not None:
            return hit, "exact"
        # Token logprobs are of an answer to its own request: a call that asks for them
        # takes no other request's answer.
        if self.semantic is not None and not wants_logprobs(call.params):
            hit = await semantic_stage.lookup(self.semantic, call, self.config.cache)
        return hit, "semantic"

    def _fallback_for(self, call: InFlight) -> Callable[[Target], Awaitable[Completion | None]]:
        """What the router asks for when every model failed: a stored answer, if any."""

        async def fallback(target: Target) -> Completion | None:
            return cache_stage.cached_fallback(call, target, self.router, self._session)

        return fallback

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
        hit, kind = await self._lookup(call)
        if hit is not None:
            served = cache_stage.served(call, hit, kind)
            served = await guard_output(call, policy, served, [], self.router)
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
        done = await guard_output(call, policy, done, attempts, self.router)
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
            return begin_stage.begin(spec, self.config, self.budgets, self.router, self.windows)
        spec, decision, error = await check_input(spec, policy, self.config)
        call, blocked = begin_stage.begin(
            spec, self.config, self.budgets, self.router, self.windows
        )
        record_checks(call, decision.checks)
        call.warnings += decision.warnings
        if error is not None:
            blocked = Completion.failure(spec.model, error, ErrorKind.CONFIG)
        elif decision.blocked is not None:
            blocked = Completion.failure(spec.model, decision.blocked, ErrorKind.GUARDRAIL)
        return call, blocked

    # -- recording --------------------------------------------------------------------

    async def _finish(
        self, call: InFlight, done: Completion, attempts: list[Attempt], hit: CacheHit | None
    ) -> CallResult:
        """The record stage: price, records, caches (see :mod:`.record_stage`)."""
        result, record = await record_stage.finish(call, done, attempts, hit, self._recorders)
        self.record(record)
        return result

    # -- batched writes -----------------------------------------------------------------

    def record(self, record: CallRecord) -> None:
        """Queue a finished call's records for the next batched write (``FLUSH_DELAY`` on).

        A write under way takes in what is queued meanwhile; otherwise a timer starts it.
        The timer is a plain callback, not a sleeping task, so :meth:`aclose` can drop it
        and write at once (no write is under way while it waits).
        """
        self._pending.append(record)
        if self._flush_timer is None and (self._flush_task is None or self._flush_task.done()):
            self._flush_timer = asyncio.get_running_loop().call_later(FLUSH_DELAY, self._flush_due)

    def _flush_due(self) -> None:
        self._flush_timer = None
        self._flush_task = asyncio.get_running_loop().create_task(self.flush())

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
        """Write what is buffered (now, not after ``FLUSH_DELAY``) and close connection pools."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        task = self._flush_task
        if task is not None and not task.done():
            await task
        await self.flush()
        closer = getattr(self._factory, "aclose", None)
        if closer is not None:
            await closer()

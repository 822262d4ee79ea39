"""Pick the provider for a model string, and make calls reliable.

The router resolves an alias from ``promptdeck.toml`` into a concrete target,
chooses the provider (``local/…`` in-process, OpenAI-compatible endpoints over the
fast HTTP path, everything else through litellm), and wraps each call in:

- a per-model concurrency limit (``[concurrency]``),
- a timeout (``timeout``, or the alias's own),
- retries with exponential backoff and jitter on 429, 5xx, timeouts and refused
  connections, honouring ``Retry-After``,
- fallbacks per alias (``on_rate_limit``, ``on_timeout = "cached" | <model>``,
  ``on_error``), recording which model answered,
- a memory of endpoints that are down, so a dead server gives one clear error
  per run instead of a slow retry per case.

Failures come back as values: a :class:`Completion` whose ``error`` is set.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.base import (
    ChatRequest,
    Completion,
    ErrorKind,
    ProviderError,
    StreamEvent,
)
from promptdeck.core.providers.openai_http import endpoint_for
from promptdeck.core.providers.params import effective_params
from promptdeck.core.providers.targets import (
    Attempt,
    DefaultProviders,
    ProviderFactory,
    Target,
    default_provider_factory,
)
from promptdeck.secrecy import remember_variable, scrub
from promptdeck.secrecy_stream import StreamScrubber

# Target, Attempt and the provider factory live in :mod:`.targets`; the gateway takes
# them from here, beside the router that uses them.
__all__ = [
    "Attempt",
    "CachedFallback",
    "DefaultProviders",
    "ModelRouter",
    "ProviderFactory",
    "Target",
    "default_provider_factory",
]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0
MAX_FALLBACK_DEPTH = 3


CachedFallback = Callable[[Target], Awaitable[Completion | None]]
"""Serves ``on_timeout = "cached"``: the latest cached answer to the same request."""


class ModelRouter:
    """Resolves models, picks providers and runs calls with limits, retries and fallbacks.

    Attributes:
        config: The workspace configuration.
        factory: Builds the provider for a target.
    """

    def __init__(
        self,
        config: WorkspaceConfig,
        factory: ProviderFactory,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.factory = factory
        self._sleep = sleep
        self._jitter = jitter
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._down: dict[str, str] = {}
        for alias in config.models.values():
            remember_variable(alias.api_key_env)

    # -- resolution ---------------------------------------------------------------

    def resolve(self, name: str) -> Target:
        """Resolve an alias (or a plain model string) into a :class:`Target`."""
        alias = self.config.models.get(name)
        if alias is None:
            return Target(name=name, model=name)
        return Target(
            name=name,
            model=alias.model,
            api_base=alias.api_base,
            api_key_env=alias.api_key_env,
            params=dict(alias.params),
            alias=alias,
        )

    def params(
        self,
        target: Target,
        params: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The parameters a call to ``target`` is made with (see :func:`effective_params`).

        Args:
            target: The model called.
            params: The prompt's parameters.
            overrides: The call's own parameters.
        """
        return effective_params(
            defaults=self.config.params, prompt=params, alias=target.params, override=overrides
        )

    def request(
        self,
        target: Target,
        messages: Sequence[Mapping[str, str]],
        params: Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ChatRequest:
        """Build the request for ``target`` with its effective parameters (:meth:`params`)."""
        return ChatRequest(
            model=target.model,
            messages=messages,
            params=self.params(target, params, overrides),
            response_format=response_format,
            api_base=target.api_base,
            api_key_env=target.api_key_env,
        )

    def call_limit(self, name: str) -> tuple[str, int]:
        """The model a name calls, and how many of its calls run at once (``[concurrency]``)."""
        target = self.resolve(name)
        per = self.config.concurrency.per_model
        size = per.get(target.name) or per.get(target.model) or self.config.concurrency.default
        return target.model, size

    def _limit(self, target: Target) -> asyncio.Semaphore:
        sem = self._limits.get(target.model)
        if sem is None:
            sem = self._limits[target.model] = asyncio.Semaphore(self.call_limit(target.name)[1])
        return sem

    def _endpoint(self, target: Target, request: ChatRequest) -> str:
        return endpoint_for(request) if target.kind == "http" else target.model

    def _timeout(self, target: Target) -> float:
        alias = target.alias
        return float(alias.timeout) if alias and alias.timeout else float(self.config.timeout)

    def _retries(self, target: Target) -> int:
        alias = target.alias
        if alias is not None and alias.max_retries is not None:
            return alias.max_retries
        return self.config.max_retries

    def backoff(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_CAP)
        base = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**retry)
        return base * (0.5 + self._jitter() / 2)

    # -- one target, with retries -------------------------------------------------

    async def _attempt(self, target: Target, request: ChatRequest) -> Completion:
        provider = self.factory(target)
        endpoint = self._endpoint(target, request)
        retries = self._retries(target)
        start = time.perf_counter()
        error: ProviderError | None = None
        used = 0
        for attempt in range(retries + 1):
            down = self._down.get(endpoint)
            if down is not None:
                return Completion.failure(
                    target.name, down, ErrorKind.CONNECTION, retries=used
                ).but(provider=provider.name)
            try:
                async with self._limit(target):
                    async with asyncio.timeout(self._timeout(target)):
                        done = await provider.complete(request)
                return done.but(
                    text=scrub(done.text), model=target.name, retries=used, provider=provider.name
                )
            except ProviderError as exc:
                error = exc
            except TimeoutError:
                error = ProviderError(
                    ErrorKind.TIMEOUT,
                    f"{target.name}: no answer within {self._timeout(target):g} s",
                )
            if not error.kind.retryable or attempt == retries:
                break
            used += 1
            await self._sleep(self.backoff(attempt, error.retry_after))
        assert error is not None
        message = error.message
        if used:
            message += f" (after {used} {'retry' if used == 1 else 'retries'})"
        if error.kind is ErrorKind.CONNECTION:
            self._down.setdefault(endpoint, message)
        return Completion.failure(
            target.name,
            message,
            error.kind,
            latency_ms=(time.perf_counter() - start) * 1000,
            retries=used,
        ).but(provider=provider.name)

    # -- fallbacks ----------------------------------------------------------------

    @staticmethod
    def policy(target: Target, kind: ErrorKind) -> tuple[str, str | None]:
        """Return (policy name, what it says) for a failure of ``kind`` on ``target``."""
        alias = target.alias
        if alias is None or kind in (ErrorKind.BUDGET, ErrorKind.CONFIG):
            return "", None
        if kind is ErrorKind.RATE_LIMIT and alias.on_rate_limit:
            return "on_rate_limit", alias.on_rate_limit
        if kind is ErrorKind.TIMEOUT and alias.on_timeout:
            return "on_timeout", alias.on_timeout
        return "on_error", alias.on_error

    async def complete(
        self,
        name: str,
        messages: Sequence[Mapping[str, str]],
        params: Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        *,
        cached_fallback: CachedFallback | None = None,
        attempts: list[Attempt] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Completion:
        """Call ``name`` reliably; never raises for a failed call.

        Args:
            name: An alias or model string.
            messages: Chat messages.
            params: The prompt's parameters (under each model's alias's).
            response_format: A JSON schema for structured output.
            cached_fallback: Serves ``on_timeout = "cached"``.
            attempts: When given, every model tried is appended (for tracing).
            overrides: The call's own parameters (over everything).

        Returns:
            The answer, or a Completion whose ``error`` says why there is none.
        """
        tried: list[Attempt] = [] if attempts is None else attempts
        target = self.resolve(name)
        reason = "primary"
        visited: set[str] = set()
        total_retries = 0
        first_failure: Completion | None = None
        for _ in range(MAX_FALLBACK_DEPTH + 1):
            visited.add(target.name)
            started = time.time()
            request = self.request(target, messages, params, response_format, overrides)
            done = await self._attempt(target, request)
            total_retries += done.retries
            tried.append(Attempt(target, done.provider, done, reason, started, request.params))
            if done.ok:
                return done.but(model=name, retries=total_retries)
            first_failure = first_failure or done
            assert done.error_kind is not None
            reason, then = self.policy(target, done.error_kind)
            if then is None or then in visited:
                break
            if then == "cached":
                hit = await cached_fallback(target) if cached_fallback else None
                if hit is not None:
                    return hit.but(model=name, retries=total_retries)
                break
            target = self.resolve(then)
        assert first_failure is not None
        last = tried[-1].completion
        error = first_failure.error or ""
        if last is not first_failure:
            error += f"; fallback {last.model} failed too: {last.error}"
        return last.but(model=name, error=error, retries=total_retries)

    async def stream(
        self,
        name: str,
        messages: Sequence[Mapping[str, str]],
        params: Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        *,
        attempts: list[Attempt] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream ``name``'s answer; retries happen only before the first delta.

        The timeout applies to each wait for the next delta. A failure after the
        first delta ends the stream with a Completion whose ``error`` is set; if the
        stream cannot start, the call falls back to :meth:`complete` (with its
        retries and fallbacks) and yields that answer whole. ``attempts``, when given,
        receives every model tried, as with :meth:`complete`.
        """
        tried: list[Attempt] = [] if attempts is None else attempts
        target = self.resolve(name)
        request = self.request(target, messages, params, response_format, overrides)
        provider = self.factory(target)
        begun = time.time()

        def tried_once(done: Completion) -> Completion:
            tried.append(Attempt(target, provider.name, done, "primary", begun, request.params))
            return done

        if self._down.get(self._endpoint(target, request)) is None:
            started = False
            idle = self._timeout(target)
            # A key the model echoes may arrive cut across deltas: held back until whole.
            pieces = StreamScrubber()
            try:
                async with self._limit(target):
                    events = provider.stream(request).__aiter__()
                    while True:
                        try:
                            event = await asyncio.wait_for(events.__anext__(), idle)
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            raise ProviderError(
                                ErrorKind.TIMEOUT, f"{name}: no output for {idle:g} s"
                            ) from None
                        started = True
                        if isinstance(event, Completion):
                            if rest := pieces.finish():
                                yield rest
                            done = event.but(text=scrub(event.text), model=name)
                            yield tried_once(done.but(provider=provider.name))
                            return
                        if safe := pieces.feed(event):
                            yield safe
            except ProviderError as exc:
                if started:
                    if rest := pieces.finish():
                        yield rest
                    failed = Completion.failure(name, exc.message, exc.kind)
                    yield tried_once(failed.but(provider=provider.name))
                    return
        done = await self.complete(
            name, messages, params, response_format, attempts=tried, overrides=overrides
        )
        if done.ok:
            yield done.text
        yield done

"""A scripted provider for tests: answers, failures and delays decided in advance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from promptdeck.core.providers.base import (
    ChatRequest,
    Completion,
    ProviderError,
    StreamEvent,
    Usage,
)

__all__ = ["FakeProvider", "Step"]

Step = str | ProviderError | Callable[[ChatRequest], str]
"""One scripted outcome: a text, an error to raise, or a function of the request."""


@dataclass
class FakeProvider:
    """Answers from a script, then repeats its default.

    Attributes:
        script: Outcomes used in order, one per call.
        default: The answer once the script is used up (a function of the request
            by default: it echoes the last message).
        delay: Seconds each call takes.
        cost_per_token: Price the provider itself reports per token (in and out);
            None: it reports no cost, like most servers.
        requests: Every request received, in order.
        name: Provider name recorded in traces.
    """

    script: list[Step] = field(default_factory=list)
    default: Step = field(
        default=lambda r: f"echo: {r.messages[-1]['content']}" if r.messages else ""
    )
    delay: float = 0.0
    cost_per_token: float | None = None
    requests: list[ChatRequest] = field(default_factory=list)
    name: str = "fake"

    @classmethod
    def answering(cls, *answers: str, delay: float = 0.0) -> FakeProvider:
        """A fake that gives these answers, then repeats the last one."""
        steps: list[Step] = list(answers)
        return cls(script=steps[:-1], default=steps[-1] if steps else "", delay=delay)

    def extend(self, steps: Iterable[Step]) -> None:
        """Append outcomes to the script."""
        self.script.extend(steps)

    def _next(self, request: ChatRequest) -> str:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else self.default
        if isinstance(step, ProviderError):
            raise step
        return step if isinstance(step, str) else step(request)

    def _completion(self, request: ChatRequest, text: str, start: float) -> Completion:
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.messages)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split()))
        return Completion(
            text=text,
            usage=usage,
            cost_usd=(
                None if self.cost_per_token is None else usage.total_tokens * self.cost_per_token
            ),
            latency_ms=(time.perf_counter() - start) * 1000,
            finish_reason="stop",
            model=request.model,
            answered_by=request.model,
            provider=self.name,
        )

    async def complete(self, request: ChatRequest) -> Completion:
        """Return the next scripted answer (or raise the next scripted error)."""
        start = time.perf_counter()
        if self.delay:
            await asyncio.sleep(self.delay)
        text = self._next(request)
        return self._completion(request, text, start)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield the next scripted answer word by word, then the Completion."""
        start = time.perf_counter()
        if self.delay:
            await asyncio.sleep(self.delay)
        text = self._next(request)
        ttft: float | None = None
        words = text.split(" ")
        for i, word in enumerate(words):
            if ttft is None:
                ttft = (time.perf_counter() - start) * 1000
            yield word if i == 0 else " " + word
            await asyncio.sleep(0)
        yield self._completion(request, text, start).but(ttft_ms=ttft)

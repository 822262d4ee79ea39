"""The one provider interface: a chat request in, a closed :class:`Completion` record out.

Every model call, whatever answers it (an OpenAI-compatible server over the fast
HTTP path, any other litellm provider, the in-process local model, or the scripted
fake of the tests), goes through a :class:`Provider`. Providers raise
:class:`ProviderError` with a classified :class:`ErrorKind`; the reliability layer
(:mod:`promptdeck.core.providers.router`) retries, falls back, and turns the last
failure into a value: ``Completion.error``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, final, runtime_checkable

from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.secrecy import scrub

__all__ = [
    "ChatRequest",
    "Completion",
    "ErrorKind",
    "Provider",
    "ProviderError",
    "StreamEvent",
    "Usage",
    "redact",
]


class ErrorKind(StrEnum):
    """Why a call failed; decides whether it is retried and which fallback applies."""

    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    SERVER = "server"
    CONNECTION = "connection"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    BUDGET = "budget"
    GUARDRAIL = "guardrail"
    CONFIG = "config"
    CONTEXT_WINDOW = "context_window"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        """True for failures worth retrying: 429, 5xx, timeouts, refused connections."""
        return self in (
            ErrorKind.RATE_LIMIT,
            ErrorKind.TIMEOUT,
            ErrorKind.SERVER,
            ErrorKind.CONNECTION,
        )


class ProviderError(Exception):
    """A failed call, classified.

    Attributes:
        kind: What kind of failure.
        message: One line for the user (already free of secrets).
        status: The HTTP status, when there was one.
        retry_after: Seconds the server asked to wait (``Retry-After``), if any.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = redact(message)
        self.status = status
        self.retry_after = retry_after


@final
@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call.

    Attributes:
        prompt_tokens: Tokens in.
        completion_tokens: Tokens out.
        estimated: True when counted locally because the provider gave none.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        """Tokens in and out."""
        return self.prompt_tokens + self.completion_tokens


@final
@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat call, resolved to a concrete model and endpoint.

    Attributes:
        model: The litellm model string (``openai/gpt-4o-mini``, ``local/smollm2-135m``).
        messages: Chat messages, each ``{"role": ..., "content": ...}``.
        params: Call parameters (temperature, max_tokens, seed, stop…).
        response_format: A JSON schema the answer must follow, if any.
        api_base: Base URL of an OpenAI-compatible server, if any.
        api_key_env: The environment variable holding the key (never the key).
    """

    model: str
    messages: Sequence[Mapping[str, str]]
    params: Mapping[str, Any] = field(default_factory=dict)
    response_format: Mapping[str, Any] | None = None
    api_base: str | None = None
    api_key_env: str | None = None


@final
@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer, or why there is none: a closed, typed record.

    Attributes:
        text: The answer ("" on error).
        usage: Token counts.
        cost_usd: What the call cost in dollars (0 for local models, cache hits and
            failures); None when unknown: a model with no known price, or a provider
            that reports no cost of its own.
        latency_ms: Wall time of the call.
        ttft_ms: Time to the first token, when streamed.
        finish_reason: ``stop``, ``length``… as the provider said.
        cached: ``None`` when freshly answered, else ``"exact"`` or ``"semantic"``.
        error: One line saying why the call failed, or None.
        error_kind: The failure's kind, or None.
        model: The model that was asked for (an alias or model string).
        answered_by: The model string that actually answered (differs after a fallback).
        provider: Which provider served it (``http``, ``litellm``, ``local``, ``fake``, ``cache``).
        retries: Retries spent before this outcome.
        logprobs: The answer's token log-probabilities, when the call asked for them
            and the provider gave them (see :mod:`promptdeck.core.providers.logprobs`).
    """

    text: str
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    finish_reason: str | None = None
    cached: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    model: str = ""
    answered_by: str = ""
    provider: str = ""
    retries: int = 0
    logprobs: Logprobs | None = None

    @property
    def ok(self) -> bool:
        """True when the call produced an answer."""
        return self.error is None

    def but(self, **changes: Any) -> Completion:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    @classmethod
    def failure(
        cls, model: str, error: str, kind: ErrorKind, *, latency_ms: float = 0.0, retries: int = 0
    ) -> Completion:
        """Build the record of a failed call."""
        return cls(
            text="",
            error=redact(error),
            error_kind=kind,
            cost_usd=0.0,
            model=model,
            answered_by="",
            latency_ms=latency_ms,
            retries=retries,
        )


StreamEvent = str | Completion
"""What a stream yields: text deltas, then exactly one final :class:`Completion`."""


@runtime_checkable
class Provider(Protocol):
    """Something that answers chat requests."""

    name: str
    """Short name recorded in traces (``http``, ``litellm``, ``local``, ``fake``)."""

    async def complete(self, request: ChatRequest) -> Completion:
        """Answer ``request``.

        Raises:
            ProviderError: Classified, so the caller can retry or fall back.
        """
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Answer ``request`` as text deltas ending with the final :class:`Completion`.

        Raises:
            ProviderError: Classified, so the caller can retry or fall back.
        """
        ...


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Remove secrets from text bound for the user, the database or an export.

    :func:`promptdeck.secrecy.scrub`: every key promptdeck read for a call, whatever
    its variable is called, every value of a variable whose name looks like a key's,
    their encoded forms, and anything following ``Bearer`` or ``api_key=``.

    Args:
        text: The text.
        environ: The environment (default: ``os.environ``).

    Returns:
        The text without secrets.
    """
    return scrub(text, environ)

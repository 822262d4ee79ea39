"""The fast path: OpenAI-compatible endpoints over one shared aiohttp connection pool.

``openai/<name>`` models and every alias with an ``api_base`` are posted straight to
``<base>/chat/completions``. Per call this costs one JSON encode, one POST on a kept-
alive connection and one JSON decode: no litellm on the hot path (litellm costs
~15–19 ms of CPU per call, which on two cores is the bottleneck).

Keys follow litellm's conventions: the alias's ``api_key_env`` variable, else
``OPENAI_API_KEY``; the base URL is the alias's ``api_base``, else
``OPENAI_BASE_URL`` / ``OPENAI_API_BASE``, else OpenAI's own. The key is read at
call time, sent only in the Authorization header, and never stored or logged.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from promptdeck.core.providers.base import (
    ChatRequest,
    Completion,
    ErrorKind,
    ProviderError,
    StreamEvent,
    Usage,
)
from promptdeck.core.providers.logprobs import LogprobSum, openai_token_logprobs, wants_logprobs
from promptdeck.secrecy import read_key

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_BASE", "OpenAIHTTPProvider", "endpoint_for", "is_openai_compatible"]

DEFAULT_BASE = "https://api.openai.com/v1"
_PARAMS = {
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "logit_bias",
    "user",
    "logprobs",
    "top_logprobs",
}


def is_openai_compatible(model: str, api_base: str | None) -> bool:
    """True when the fast path serves this model: ``openai/...`` or any ``api_base``."""
    return api_base is not None or model.startswith("openai/")


def endpoint_for(request: ChatRequest, environ: Mapping[str, str] | None = None) -> str:
    """Return the base URL a request goes to (without ``/chat/completions``)."""
    env = os.environ if environ is None else environ
    base = (
        request.api_base or env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or DEFAULT_BASE
    )
    return base.rstrip("/")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _classify(status: int) -> ErrorKind:
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status in (401, 403):
        return ErrorKind.AUTH
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if status >= 500:
        return ErrorKind.SERVER
    return ErrorKind.BAD_REQUEST


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200].strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    return str(error or data)[:200]


class OpenAIHTTPProvider:
    """Posts to ``/chat/completions`` through one shared connection pool per event loop.

    Attributes:
        name: ``http``.
        pool_size: Connections kept open (per host).
    """

    name = "http"

    def __init__(self, pool_size: int = 64) -> None:
        self.pool_size = pool_size
        self._sessions: dict[int, aiohttp.ClientSession] = {}

    def _session(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._sessions.get(id(loop))
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, limit_per_host=self.pool_size)
            session = aiohttp.ClientSession(
                connector=connector,
                json_serialize=json.dumps,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._sessions[id(loop)] = session
        return session

    async def aclose(self) -> None:
        """Close the pool of the running loop."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(id(loop), None)
        if session is not None:
            await session.close()

    def _prepare(self, request: ChatRequest, stream: bool) -> tuple[str, dict[str, str], bytes]:
        url = endpoint_for(request) + "/chat/completions"
        key_env = request.api_key_env or "OPENAI_API_KEY"
        key = read_key(key_env)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif (
            request.api_base is None
            and request.api_key_env is None
            and url.startswith(DEFAULT_BASE)
        ):
            raise ProviderError(
                ErrorKind.AUTH, f"no API key for {request.model}: set {key_env} in the environment"
            )
        elif request.api_key_env is not None:
            raise ProviderError(
                ErrorKind.AUTH,
                f"no API key for {request.model}: the variable {key_env} is not set",
            )
        body: dict[str, Any] = {
            "model": request.model.removeprefix("openai/"),
            "messages": [dict(m) for m in request.messages],
        }
        body.update({k: v for k, v in request.params.items() if k in _PARAMS})
        if request.response_format is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(request.response_format)},
            }
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return url, headers, json.dumps(body).encode()

    async def complete(self, request: ChatRequest) -> Completion:
        """Post the request and parse the answer.

        Raises:
            ProviderError: On HTTP errors (classified), refused connections, bad JSON.
        """
        import aiohttp

        url, headers, body = self._prepare(request, stream=False)
        start = time.perf_counter()
        try:
            async with self._session().post(url, data=body, headers=headers) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise ProviderError(
                        _classify(response.status),
                        f"{request.model}: HTTP {response.status} from {endpoint_for(request)}: "
                        f"{_error_text(raw)}",
                        status=response.status,
                        retry_after=_retry_after(response.headers),
                    )
        except aiohttp.ClientConnectionError as exc:
            raise ProviderError(
                ErrorKind.CONNECTION, f"cannot reach {endpoint_for(request)} ({exc})"
            ) from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(ErrorKind.OTHER, f"{endpoint_for(request)}: {exc}") from exc
        latency = (time.perf_counter() - start) * 1000
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError(
                ErrorKind.BAD_REQUEST, f"{endpoint_for(request)} answered without a chat choice"
            ) from exc
        usage = data.get("usage") or {}
        logprobs = LogprobSum()
        if wants_logprobs(request.params):
            logprobs.add(openai_token_logprobs(choice))
        return Completion(
            text=text,
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                estimated=not usage,
            ),
            latency_ms=latency,
            finish_reason=choice.get("finish_reason"),
            model=request.model,
            answered_by=request.model,
            provider=self.name,
            logprobs=logprobs.result(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream server-sent events as text deltas, then the final Completion.

        Raises:
            ProviderError: As :meth:`complete`.
        """
        import aiohttp

        url, headers, body = self._prepare(request, stream=True)
        start = time.perf_counter()
        ttft: float | None = None
        parts: list[str] = []
        usage: dict[str, Any] = {}
        finish: str | None = None
        logprobs = LogprobSum()
        wanted = wants_logprobs(request.params)
        try:
            async with self._session().post(url, data=body, headers=headers) as response:
                if response.status >= 400:
                    raw = await response.read()
                    raise ProviderError(
                        _classify(response.status),
                        f"{request.model}: HTTP {response.status} from {endpoint_for(request)}: "
                        f"{_error_text(raw)}",
                        status=response.status,
                        retry_after=_retry_after(response.headers),
                    )
                async for line in response.content:
                    text = line.decode("utf-8", "replace").strip()
                    if not text.startswith("data:"):
                        continue
                    payload = text[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        chunk = json.loads(payload)
                    except ValueError:
                        continue
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        delta = (choice.get("delta") or {}).get("content")
                        finish = choice.get("finish_reason") or finish
                        if wanted and choice.get("index", 0) == 0:
                            logprobs.add(openai_token_logprobs(choice))
                        if delta:
                            if ttft is None:
                                ttft = (time.perf_counter() - start) * 1000
                            parts.append(delta)
                            yield delta
        except aiohttp.ClientConnectionError as exc:
            raise ProviderError(
                ErrorKind.CONNECTION, f"cannot reach {endpoint_for(request)} ({exc})"
            ) from exc
        yield Completion(
            text="".join(parts),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                estimated=not usage,
            ),
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
            finish_reason=finish,
            model=request.model,
            answered_by=request.model,
            provider=self.name,
            logprobs=logprobs.result(),
        )

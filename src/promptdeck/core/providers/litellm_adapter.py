"""The litellm adapter: the only module that imports litellm (always lazily).

It serves every model string the fast path does not (``anthropic/...``,
``ollama_chat/...``, ``gemini/...``…), looks up prices in litellm's bundled price
map (offline: :func:`promptdeck.core.workspace.offline.apply_offline_environment` runs first),
and registers the in-process local models with litellm as the custom provider
``local`` at zero price, so that libraries calling litellm (deepeval judges) can
use ``local/<alias>`` too.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.base import (
    ChatRequest,
    Completion,
    ErrorKind,
    ProviderError,
    StreamEvent,
    Usage,
)
from promptdeck.core.providers.logprobs import LogprobSum, openai_token_logprobs, wants_logprobs
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.secrecy import read_key

__all__ = [
    "LitellmProvider",
    "gives_logprobs",
    "import_litellm",
    "model_prices",
    "register_local_provider",
]

_import_lock = threading.Lock()
_registered: set[str] = set()


def import_litellm() -> Any:
    """Import litellm once, offline and quiet, and return the module."""
    with _import_lock:
        apply_offline_environment()
        import litellm

        litellm.suppress_debug_info = True
        return litellm


PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"


@functools.lru_cache(maxsize=1)
def _price_map_bytes() -> bytes | None:
    """The bundled map's JSON (None when litellm's copy cannot be found), read once.

    Kept as bytes: the map is ~3 MB, and decoding it to text costs more than the
    substring searches :func:`_surely_absent` makes in it.
    """
    spec = importlib.util.find_spec("litellm")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / PRICE_MAP_FILE
        if path.is_file():
            return path.read_bytes()
    return None


@functools.lru_cache(maxsize=1)
def price_map() -> dict[str, dict[str, Any]]:
    """Return litellm's bundled price and context-window map, without importing litellm.

    Offline (``LITELLM_LOCAL_MODEL_COST_MAP``), ``litellm.model_cost`` is exactly this
    file; reading it directly takes milliseconds where importing litellm takes seconds.
    """
    raw = _price_map_bytes()
    if raw is not None:
        data: dict[str, dict[str, Any]] = json.loads(raw)
        return data
    cost_map: dict[str, dict[str, Any]] = import_litellm().model_cost
    return cost_map


@functools.lru_cache(maxsize=256)
def _surely_absent(names: tuple[str, ...]) -> bool:
    """True when none of these names is a key of the bundled map, decided from its text.

    Parsing the 3 MB map takes about 0.1 s; a model it does not list (a local server,
    a fine-tune) is answered by a substring search instead (once per model: a run
    asks for its prices and its context window). Only plain ASCII names, which JSON
    writes unchanged, are decided this way.
    """
    raw = _price_map_bytes()
    if raw is None:
        return False
    if any(not name.isascii() or '"' in name or "\\" in name for name in names):
        return False
    keys = [name.encode("ascii") for name in names]
    # The names are a model string and its tail ("openai/x", "x"): when the shortest
    # one, closing quote included, is nowhere in the text, none of them is a key.
    shortest = min(keys, key=len)
    if all(key.endswith(shortest) for key in keys) and shortest + b'"' not in raw:
        return True
    return not any(b'"' + key + b'"' in raw for key in keys)


def model_info(model: str) -> dict[str, Any] | None:
    """Return litellm's bundled entry for a model (prices, context window), if any."""
    names = (model, model.split("/", 1)[-1])
    if _surely_absent(names):
        return None
    cost_map = price_map()
    for name in names:
        entry = cost_map.get(name)
        if entry:
            return entry
    return None


def model_prices(model: str) -> tuple[float, float] | None:
    """Return (input, output) dollars per token from litellm's bundled price map.

    Args:
        model: A litellm model string (``openai/gpt-4o-mini``) or bare name.

    Returns:
        The prices, or None when litellm does not know the model.
    """
    candidates = (model, model.split("/", 1)[-1])
    if _surely_absent(candidates):
        return None
    cost_map = price_map()
    for name in candidates:
        entry = cost_map.get(name)
        if entry and "input_cost_per_token" in entry:
            return float(entry.get("input_cost_per_token") or 0.0), float(
                entry.get("output_cost_per_token") or 0.0
            )
    return None


def _classify(litellm: Any, exc: BaseException) -> ErrorKind:
    checks: list[tuple[str, ErrorKind]] = [
        ("RateLimitError", ErrorKind.RATE_LIMIT),
        ("Timeout", ErrorKind.TIMEOUT),
        ("AuthenticationError", ErrorKind.AUTH),
        ("PermissionDeniedError", ErrorKind.AUTH),
        ("APIConnectionError", ErrorKind.CONNECTION),
        ("InternalServerError", ErrorKind.SERVER),
        ("ServiceUnavailableError", ErrorKind.SERVER),
        ("BadGatewayError", ErrorKind.SERVER),
        ("BadRequestError", ErrorKind.BAD_REQUEST),
        ("NotFoundError", ErrorKind.BAD_REQUEST),
    ]
    for name, kind in checks:
        cls = getattr(litellm, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return kind
    return ErrorKind.OTHER


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def gives_logprobs(litellm: Any, model: str) -> bool:
    """True when litellm can ask ``model``'s provider for token logprobs.

    Providers that have none (Anthropic, Bedrock, Ollama, Mistral…) would reject the
    parameter; the call is made without it, and a ``perplexity`` assertion on its
    answer says the provider gave none.
    """
    try:
        name, provider, _key, _base = litellm.get_llm_provider(model)
        supported = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider)
    except Exception:
        return False
    return bool(supported) and "logprobs" in supported


class LitellmProvider:
    """Calls ``litellm.acompletion`` for any provider litellm knows.

    Attributes:
        name: ``litellm``.
    """

    name = "litellm"

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(request.params)
        if wants_logprobs(request.params) and not gives_logprobs(import_litellm(), request.model):
            kwargs.pop("logprobs", None)
            kwargs.pop("top_logprobs", None)
        elif "logprobs" in kwargs and not wants_logprobs(request.params):
            kwargs.pop("logprobs")
        kwargs["num_retries"] = 0  # the router retries, with backoff and fallbacks
        if request.api_base:
            kwargs["api_base"] = request.api_base
        if request.api_key_env:
            key = read_key(request.api_key_env)
            if not key:
                raise ProviderError(
                    ErrorKind.AUTH,
                    f"no API key for {request.model}: "
                    f"the variable {request.api_key_env} is not set",
                )
            kwargs["api_key"] = key
        if request.response_format is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(request.response_format)},
            }
        return kwargs

    async def complete(self, request: ChatRequest) -> Completion:
        """Call litellm and convert its response.

        Raises:
            ProviderError: litellm's exception, classified.
        """
        litellm = await asyncio.to_thread(import_litellm)
        kwargs = self._kwargs(request)
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(
                model=request.model, messages=[dict(m) for m in request.messages], **kwargs
            )
        except Exception as exc:
            raise ProviderError(
                _classify(litellm, exc),
                f"{request.model}: {_first_line(exc)}",
                status=getattr(exc, "status_code", None),
            ) from exc
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        logprobs = LogprobSum()
        if "logprobs" in kwargs:
            logprobs.add(openai_token_logprobs(choice))
        return Completion(
            text=choice.message.content or "",
            usage=Usage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                estimated=usage is None,
            ),
            latency_ms=(time.perf_counter() - start) * 1000,
            finish_reason=choice.finish_reason,
            model=request.model,
            answered_by=request.model,
            provider=self.name,
            logprobs=logprobs.result(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream through litellm.

        Raises:
            ProviderError: litellm's exception, classified.
        """
        litellm = await asyncio.to_thread(import_litellm)
        kwargs = self._kwargs(request)
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
        start = time.perf_counter()
        parts: list[str] = []
        ttft: float | None = None
        finish: str | None = None
        usage: Any = None
        logprobs = LogprobSum()
        wanted = "logprobs" in kwargs
        try:
            response = await litellm.acompletion(
                model=request.model, messages=[dict(m) for m in request.messages], **kwargs
            )
            async for chunk in response:
                usage = getattr(chunk, "usage", None) or usage
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    if wanted and getattr(choice, "index", 0) == 0:
                        logprobs.add(openai_token_logprobs(choice))
                    delta = getattr(choice.delta, "content", None)
                    if delta:
                        if ttft is None:
                            ttft = (time.perf_counter() - start) * 1000
                        parts.append(delta)
                        yield delta
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(
                _classify(litellm, exc), f"{request.model}: {_first_line(exc)}"
            ) from exc
        yield Completion(
            text="".join(parts),
            usage=Usage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                estimated=usage is None,
            ),
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
            finish_reason=finish,
            model=request.model,
            answered_by=request.model,
            provider=self.name,
            logprobs=logprobs.result(),
        )


def register_local_provider(config: WorkspaceConfig, root: Path) -> list[str]:
    """Make ``local/<alias>`` callable through litellm (for deepeval judges and the like).

    Registers a ``CustomLLM`` as the custom provider ``local`` and a zero price for
    every built-in and declared local model.

    Args:
        config: The workspace configuration.
        root: The workspace folder.

    Returns:
        The model strings registered.
    """
    from promptdeck.core.providers.local import LocalProvider
    from promptdeck.core.providers.local_model import BUILTIN_LOCAL_MODELS

    litellm = import_litellm()
    custom_llm: Any = litellm.CustomLLM

    provider = LocalProvider(config, root)

    def _request(model: str, messages: list[Any], optional_params: dict[str, Any]) -> ChatRequest:
        params = dict(optional_params)
        schema = None
        fmt = params.pop("response_format", None)
        if isinstance(fmt, dict):
            schema = fmt.get("json_schema", {}).get("schema") or fmt.get("schema")
        name = model if model.startswith("local/") else f"local/{model}"
        return ChatRequest(model=name, messages=messages, params=params, response_format=schema)

    def _fill(response: Any, done: Completion) -> Any:
        response.choices[0].message.content = done.text
        response.choices[0].finish_reason = done.finish_reason or "stop"
        response.model = done.model
        response.usage = litellm.Usage(
            prompt_tokens=done.usage.prompt_tokens,
            completion_tokens=done.usage.completion_tokens,
            total_tokens=done.usage.total_tokens,
        )
        return response

    def _chunks(done: Completion) -> Iterator[dict[str, Any]]:
        yield {
            "text": done.text,
            "tool_use": None,
            "is_finished": True,
            "finish_reason": done.finish_reason or "stop",
            "usage": {
                "prompt_tokens": done.usage.prompt_tokens,
                "completion_tokens": done.usage.completion_tokens,
                "total_tokens": done.usage.total_tokens,
            },
            "index": 0,
        }

    class _LocalLLM(custom_llm):  # type: ignore[misc]
        def completion(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            done = provider._run(_request(model, messages, kw.get("optional_params") or {}))
            return _fill(kw["model_response"], done)

        async def acompletion(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            done = await provider.complete(
                _request(model, messages, kw.get("optional_params") or {})
            )
            return _fill(kw["model_response"], done)

        def streaming(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            done = provider._run(_request(model, messages, kw.get("optional_params") or {}))
            return _chunks(done)

        async def astreaming(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            done = await provider.complete(
                _request(model, messages, kw.get("optional_params") or {})
            )
            for chunk in _chunks(done):
                yield chunk

    with _import_lock:
        if "local" not in _registered:
            litellm.custom_provider_map = [
                *[p for p in litellm.custom_provider_map if p.get("provider") != "local"],
                {"provider": "local", "custom_handler": _LocalLLM()},
            ]
            _registered.add("local")
        names = [f"local/{alias}" for alias in [*BUILTIN_LOCAL_MODELS, *config.local_models]]
        litellm.register_model(
            {
                name: {
                    "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0,
                    "litellm_provider": "local",
                    "mode": "chat",
                }
                for name in names
            }
        )
    return names

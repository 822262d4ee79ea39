"""The ``local/<alias>`` provider: llama.cpp in a worker thread, under the model's lock.

Calls run through :func:`asyncio.to_thread`, so the event loop (and the TUI) stay
responsive while the model computes; the model's lock serialises calls, since a
``llama_cpp.Llama`` object is not thread-safe. A JSON schema in the request becomes
llama.cpp's ``response_format``, which constrains the output with a grammar.

Token counts are llama.cpp's own: the prompt as the model's chat template renders it,
and the tokens generated. A plain call reports them; a stream's chunks carry none, so
:func:`_counting` takes the same two numbers from inside the generation, and a
streamed call counts exactly what the same call unstreamed does.

A call that asks for token logprobs (``logprobs: true``, for ``perplexity``) gets
them from the same place: llama-cpp-python returns logprobs only from a model loaded
with ``logits_all`` (a row of logits per token of context, ~400 MB for SmolLM2), so
instead :func:`_counting` reads the logits each answer token was sampled from, the
moment it is sampled, and keeps its log-softmax: the model's own distribution, as
llama-cpp-python's ``logprobs`` gives it. Calls that do not ask pay nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
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
from promptdeck.core.providers.local_model import LocalModel, get_local_model
from promptdeck.core.providers.logprobs import LogprobSum, wants_logprobs
from promptdeck.errors import PromptdeckError

__all__ = ["LocalProvider", "llama_kwargs"]

_PARAMS = {"temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "repeat_penalty"}


def llama_kwargs(request: ChatRequest) -> dict[str, Any]:
    """Translate a request's parameters into ``create_chat_completion`` arguments."""
    kwargs: dict[str, Any] = {k: v for k, v in request.params.items() if k in _PARAMS}
    kwargs.setdefault("max_tokens", 256)
    kwargs.setdefault("temperature", 0.0)
    if request.response_format is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": dict(request.response_format)}
    return kwargs


@dataclass
class _TokenCount:
    prompt: int = 0
    completion: int = 0
    logprobs: LogprobSum | None = None


def _sampled_logprob(llama: Any, token: int) -> float:
    """The log-probability of ``token`` under the logits it was just sampled from."""
    import llama_cpp
    import numpy as np

    pointer = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1)
    logits = np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)).astype(np.float64)
    top = float(logits.max())
    return float(logits[token] - top - np.log(np.exp(logits - top).sum()))


def _is_end(llama: Any, token: int) -> bool:
    """True for an end-of-generation token (not counted, as llama.cpp does not)."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(llama._model.vocab, token))
    except (ImportError, AttributeError):
        return bool(token == llama.token_eos())


@contextmanager
def _counting(llama: Any, logprobs: bool = False) -> Iterator[_TokenCount]:
    """Count a generation's tokens as llama.cpp's ``usage`` does, for a stream.

    llama.cpp renders the chat template, tokenizes it and hands the tokens to
    ``Llama.generate``: their number is the usage's ``prompt_tokens``; every token
    generated but the end-of-generation one is a ``completion_tokens`` (and, with
    ``logprobs``, has its log-probability summed). The instance's ``generate`` is
    wrapped while the caller holds the model's lock.
    """
    count = _TokenCount()
    original = llama.generate

    def generate(tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
        count.prompt, count.completion = len(tokens), 0
        count.logprobs = LogprobSum() if logprobs else None
        if count.logprobs is not None:
            count.logprobs.add(())
        inner = original(tokens, *args, **kwargs)
        try:
            for token in inner:
                if not _is_end(llama, token):
                    count.completion += 1
                    if count.logprobs is not None:
                        count.logprobs.add((_sampled_logprob(llama, token),))
                yield token
        finally:
            inner.close()

    llama.generate = generate
    try:
        yield count
    finally:
        del llama.generate


@contextmanager
def _context_errors(request: ChatRequest) -> Iterator[None]:
    """llama.cpp's "Requested tokens (n) exceed context window of m" as a provider error."""
    try:
        yield
    except ValueError as exc:
        if "context window" not in str(exc):
            raise
        raise ProviderError(ErrorKind.CONTEXT_WINDOW, f"{request.model}: {exc}") from exc


class LocalProvider:
    """Runs GGUF models in-process.

    Attributes:
        name: ``local``.
        config: The workspace configuration (for ``[local_models]``).
        root: The workspace folder.
    """

    name = "local"

    def __init__(self, config: WorkspaceConfig, root: Path) -> None:
        self.config = config
        self.root = root

    def _model(self, request: ChatRequest) -> LocalModel:
        try:
            return get_local_model(request.model, self.config, self.root)
        except PromptdeckError as error:
            raise ProviderError(ErrorKind.CONFIG, error.title) from error

    def _run(self, request: ChatRequest) -> Completion:
        model = self._model(request)
        start = time.perf_counter()
        try:
            llama = model.load()
        except PromptdeckError as error:
            raise ProviderError(ErrorKind.CONFIG, error.title) from error
        # Only a call that asks for logprobs has its generation watched.
        watch = _counting(llama, True) if wants_logprobs(request.params) else nullcontext(None)
        with model.lock, watch as count, _context_errors(request):
            out = llama.create_chat_completion(
                messages=[dict(m) for m in request.messages], **llama_kwargs(request)
            )
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
            latency_ms=(time.perf_counter() - start) * 1000,
            finish_reason=choice.get("finish_reason"),
            model=request.model,
            answered_by=request.model,
            provider=self.name,
            logprobs=count.logprobs.result() if count and count.logprobs else None,
        )

    async def complete(self, request: ChatRequest) -> Completion:
        """Run the model in a thread and return its answer.

        Raises:
            ProviderError: When the model is unknown, missing or fails to load.
        """
        return await asyncio.to_thread(self._run, request)

    def _stream_into(
        self, request: ChatRequest, emit: Callable[[StreamEvent | BaseException], None]
    ) -> None:
        try:
            model = self._model(request)
            start = time.perf_counter()
            llama = model.load()
            parts: list[str] = []
            ttft: float | None = None
            finish: str | None = None
            wanted = wants_logprobs(request.params)
            with model.lock, _counting(llama, wanted) as count, _context_errors(request):
                chunks: Iterator[dict[str, Any]] = llama.create_chat_completion(
                    messages=[dict(m) for m in request.messages],
                    stream=True,
                    **llama_kwargs(request),
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    delta = (choice.get("delta") or {}).get("content")
                    finish = choice.get("finish_reason") or finish
                    if delta:
                        if ttft is None:
                            ttft = (time.perf_counter() - start) * 1000
                        parts.append(delta)
                        emit(delta)
            emit(
                Completion(
                    text="".join(parts),
                    usage=Usage(count.prompt, count.completion),
                    latency_ms=(time.perf_counter() - start) * 1000,
                    ttft_ms=ttft,
                    finish_reason=finish,
                    model=request.model,
                    answered_by=request.model,
                    provider=self.name,
                    logprobs=count.logprobs.result() if count.logprobs is not None else None,
                )
            )
        except PromptdeckError as error:
            emit(ProviderError(ErrorKind.CONFIG, error.title))
        except BaseException as exc:  # handed to the event loop, re-raised there
            emit(exc)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream the model's tokens from its thread.

        Raises:
            ProviderError: When the model is unknown, missing or fails to load.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamEvent | BaseException] = asyncio.Queue()

        def emit(item: StreamEvent | BaseException) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        thread = threading.Thread(
            target=self._stream_into, args=(request, emit), name="local-model", daemon=True
        )
        thread.start()
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Completion):
                return

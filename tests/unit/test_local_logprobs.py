"""Token logprobs from the real local model, read from the logits each token was sampled from.

They must be llama-cpp-python's own (which it gives only for a model loaded with
``logits_all``, a row of logits per context token): the same answer, token for
token, summed the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.base import ChatRequest, Completion
from promptdeck.core.providers.local import LocalProvider
from promptdeck.core.providers.local_model import local_model_path

ASK = [{"role": "user", "content": "What is the capital of France?"}]
MODEL = "local/smollm2-135m"


@pytest.mark.local_model
async def test_local_logprobs_match_llama_cpps_own(tmp_path: Path) -> None:
    import llama_cpp

    provider = LocalProvider(WorkspaceConfig(), tmp_path)
    asked = ChatRequest(model=MODEL, messages=ASK, params={"max_tokens": 16, "logprobs": True})
    done = await provider.complete(asked)
    events = [e async for e in provider.stream(asked)]
    plain = await provider.complete(
        ChatRequest(model=MODEL, messages=ASK, params={"max_tokens": 16})
    )
    streamed = events[-1]
    assert isinstance(streamed, Completion) and plain.logprobs is None  # only when asked
    assert done.logprobs is not None and done.logprobs.count == done.usage.completion_tokens > 0
    assert streamed.logprobs is not None and streamed.text == done.text
    assert streamed.logprobs.total == pytest.approx(done.logprobs.total, abs=1e-9)
    assert done.logprobs.total < 0 and done.logprobs.perplexity > 1

    path = local_model_path(MODEL, WorkspaceConfig(), tmp_path)
    reference = llama_cpp.Llama(model_path=str(path), n_ctx=256, logits_all=True, verbose=False)
    try:
        out = reference.create_chat_completion(
            messages=ASK, max_tokens=16, temperature=0.0, logprobs=True, top_logprobs=1
        )
    finally:
        reference.close()
    choice = out["choices"][0]
    own = [float(token["logprob"]) for token in choice["logprobs"]["content"]]
    assert choice["message"]["content"] == done.text
    assert len(own) == done.logprobs.count
    assert sum(own) == pytest.approx(done.logprobs.total, abs=1e-3)

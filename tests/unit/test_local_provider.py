"""The local provider on the real model: plain, structured (JSON schema), and via litellm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.base import ChatRequest, Completion, ErrorKind, ProviderError
from promptdeck.core.providers.local import LocalProvider, llama_kwargs

ASK = [{"role": "user", "content": "What is the capital of France?"}]


def test_schema_becomes_llama_response_format() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    kwargs = llama_kwargs(ChatRequest(model="local/x", messages=ASK, response_format=schema))
    assert kwargs["response_format"] == {"type": "json_object", "schema": schema}
    assert kwargs["temperature"] == 0.0 and kwargs["max_tokens"] == 256


async def test_an_unknown_local_model_is_a_config_error(tmp_path: Path) -> None:
    provider = LocalProvider(WorkspaceConfig(), tmp_path)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(ChatRequest(model="local/nope", messages=ASK))
    assert caught.value.kind is ErrorKind.CONFIG and "unknown local model" in caught.value.message


@pytest.mark.local_model
async def test_local_model_answers_streams_and_follows_a_schema(tmp_path: Path) -> None:
    provider = LocalProvider(WorkspaceConfig(), tmp_path)
    request = ChatRequest(model="local/smollm2-135m", messages=ASK, params={"max_tokens": 24})
    done = await provider.complete(request)
    assert done.text.strip() and done.usage.completion_tokens > 0
    events = [e async for e in provider.stream(request)]
    assert isinstance(events[-1], Completion) and events[-1].ttft_ms is not None
    assert "".join(e for e in events[:-1] if isinstance(e, str)) == events[-1].text
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    structured = await provider.complete(
        ChatRequest(
            model="local/smollm2-135m",
            messages=ASK,
            params={"max_tokens": 40},
            response_format=schema,
        )
    )
    assert isinstance(json.loads(structured.text)["city"], str)


@pytest.mark.local_model
def test_litellm_can_call_the_local_model_at_zero_cost(tmp_path: Path) -> None:
    from promptdeck.core.providers.litellm_adapter import import_litellm, register_local_provider

    names = register_local_provider(WorkspaceConfig(), tmp_path)
    assert "local/smollm2-135m" in names
    litellm = import_litellm()
    response = litellm.completion(model="local/smollm2-135m", messages=ASK, max_tokens=16)
    assert response.choices[0].message.content
    assert response.usage.completion_tokens > 0
    assert litellm.completion_cost(completion_response=response) == 0

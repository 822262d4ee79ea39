"""Provider plumbing: routing by model string, secrets scrubbing, keys, backoff, percentiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.gateway.keys import exact_key, request_hash
from promptdeck.core.gateway.prompt_call import json_schema_of
from promptdeck.core.providers.base import ChatRequest, ErrorKind, ProviderError, redact
from promptdeck.core.providers.openai_http import OpenAIHTTPProvider, endpoint_for
from promptdeck.core.providers.router import ModelRouter, default_provider_factory
from promptdeck.store.stats_repo import percentile

ASK = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("local/smollm2-135m", "local"),
        ("openai/gpt-4o-mini", "http"),
        ("lab", "http"),
        ("anthropic/claude-3-5-haiku", "litellm"),
        ("ollama_chat/llama3", "litellm"),
        ("smol", "local"),
    ],
)
def test_the_router_picks_the_provider_from_the_model_string(
    name: str, kind: str, tmp_path: Path
) -> None:
    config = WorkspaceConfig(
        models={
            "lab": ModelAlias(model="hosted_vllm/qwen", api_base="http://127.0.0.1:8000/v1"),
            "smol": ModelAlias(model="local/smollm2-135m"),
        }
    )
    factory = default_provider_factory(config, tmp_path)
    router = ModelRouter(config, factory)
    target = router.resolve(name)
    assert target.kind == kind
    assert factory(target).name == kind


def test_alias_params_beat_the_prompts_and_a_calls_overrides_beat_both(tmp_path: Path) -> None:
    config = WorkspaceConfig(
        models={"m": ModelAlias(model="openai/x", params={"temperature": 0.5, "max_tokens": 9})}
    )
    router = ModelRouter(config, default_provider_factory(config, tmp_path))
    request = router.request(router.resolve("m"), ASK, {"temperature": 0.0, "seed": 1})
    assert dict(request.params) == {"temperature": 0.5, "max_tokens": 9, "seed": 1}
    request = router.request(router.resolve("m"), ASK, {"seed": 1}, overrides={"max_tokens": 3})
    assert dict(request.params) == {"temperature": 0.5, "max_tokens": 3, "seed": 1}


def test_base_url_follows_litellm_conventions(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ChatRequest(model="openai/x", messages=ASK)
    assert endpoint_for(request, {}) == "https://api.openai.com/v1"
    assert endpoint_for(request, {"OPENAI_API_BASE": "http://127.0.0.1:1/v1/"}) == (
        "http://127.0.0.1:1/v1"
    )
    assert endpoint_for(request, {"OPENAI_BASE_URL": "http://a/v1", "OPENAI_API_BASE": "x"}) == (
        "http://a/v1"
    )


async def test_a_missing_key_is_an_auth_error_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    provider = OpenAIHTTPProvider()
    with pytest.raises(ProviderError) as caught:
        await provider.complete(ChatRequest(model="openai/gpt-4o-mini", messages=ASK))
    assert caught.value.kind is ErrorKind.AUTH and "OPENAI_API_KEY" in caught.value.message
    with pytest.raises(ProviderError, match="the variable LAB_KEY is not set"):
        await provider.complete(
            ChatRequest(
                model="openai/x", messages=ASK, api_base="http://127.0.0.1:9", api_key_env="LAB_KEY"
            )
        )


def test_redact_removes_key_values_and_bearer_tokens() -> None:
    env = {"MY_API_KEY": "sk-1234567890abcdef", "HOME": "/root"}
    text = "401 for sk-1234567890abcdef; Authorization: Bearer abcdefghijkl; home /root"
    out = redact(text, env)
    assert "sk-1234567890abcdef" not in out and "abcdefghijkl" not in out
    assert "/root" in out


def test_backoff_doubles_with_jitter_and_honours_retry_after(tmp_path: Path) -> None:
    router = ModelRouter(
        WorkspaceConfig(), default_provider_factory(WorkspaceConfig(), tmp_path), jitter=lambda: 1.0
    )
    assert [router.backoff(i, None) for i in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert router.backoff(10, None) == 30.0
    assert router.backoff(0, 7.0) == 7.0 and router.backoff(0, 600.0) == 60.0


def test_cache_keys_depend_on_what_decides_the_answer() -> None:
    base = request_hash("m", ASK, {"temperature": 0, "seed": 1})
    assert base == request_hash("m", ASK, {"seed": 1, "temperature": 0, "stream": True})
    assert base != request_hash("m", ASK, {"temperature": 0, "seed": 2})
    assert base != request_hash("n", ASK, {"temperature": 0, "seed": 1})
    assert exact_key(base, 0) != exact_key(base, 1)


def test_response_format_shapes_become_a_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert json_schema_of({"type": "json_object"}) == {"type": "object"}
    assert json_schema_of({"type": "json_object", "schema": schema}) == schema
    assert json_schema_of({"type": "json_schema", "json_schema": {"schema": schema}}) == schema
    assert json_schema_of({"type": "text"}) is None and json_schema_of(None) is None


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([10.0], 99) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 95) == 95.0


def test_models_the_price_map_does_not_list_are_answered_without_parsing_it() -> None:
    from promptdeck.core.providers import litellm_adapter as la

    la.price_map.cache_clear()
    assert la.model_prices("openai/my-own-finetune-7") is None
    assert la.model_info("my-server/llama-local") is None
    assert la.price_map.cache_info().currsize == 0
    # A listed model is read from the parsed map, as before.
    assert la.model_prices("openai/gpt-4o-mini") == la.model_prices("gpt-4o-mini")
    assert la.model_prices("gpt-4o-mini") is not None
    assert la.price_map.cache_info().currsize == 1
    assert la.model_prices("ünïcode-model") is None  # decided by the parsed map


def test_a_model_absent_from_the_price_map_is_searched_for_once() -> None:
    """A run asks for an unlisted model's prices and its context window: one search of the
    ~3 MB map serves both (each search costs milliseconds before the first call)."""
    from promptdeck.core.providers import litellm_adapter as la

    la._surely_absent.cache_clear()
    assert la.model_prices("openai/bench-server-1") is None
    assert la.model_info("openai/bench-server-1") is None
    assert la.model_prices("openai/bench-server-1") is None
    info = la._surely_absent.cache_info()
    assert (info.misses, info.hits) == (1, 2)

"""One token count per request: streamed (Compare) and not (`run`) record the same."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.providers.base import ChatRequest, Completion, Provider, StreamEvent, Usage
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.providers.local import LocalProvider
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate

MESSAGES = [
    {"role": "system", "content": "You answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


class Silent(FakeProvider):
    """A server that reports no usage at all (tokens are then estimated, one way)."""

    async def complete(self, request: ChatRequest) -> Completion:
        return (await super().complete(request)).but(usage=Usage())

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        async for event in super().stream(request):
            yield event.but(usage=Usage()) if isinstance(event, Completion) else event


def _gateway(tmp_path: Path, provider: Provider | None = None) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)
    config = WorkspaceConfig(
        models={
            "priced": ModelAlias(
                model="fake/m", input_cost_per_token=0.001, output_cost_per_token=0.002
            )
        }
    )
    factory = None if provider is None else (lambda t: provider)
    return Gateway(config, tmp_path, create_db_engine(db), provider_factory=factory)


async def _both(gateway: Gateway, spec: CallSpec) -> tuple[CallResult, CallResult]:
    called = await gateway.call(spec)
    streamed = [e async for e in gateway.stream(spec)]
    assert isinstance(streamed[-1], CallResult)
    return called, streamed[-1]


def _recorded(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return conn.execute(
            "SELECT c.prompt_tokens, c.completion_tokens, c.cost_usd, t.total_tokens, t.cost_usd"
            " FROM completion c JOIN trace t ON t.completion_id = c.id ORDER BY c.id"
        ).fetchall()


@pytest.mark.parametrize("provider", [FakeProvider(default="Paris is."), Silent(default="Paris.")])
async def test_streamed_and_plain_calls_record_the_same_tokens_and_cost(
    tmp_path: Path, provider: FakeProvider
) -> None:
    gateway = _gateway(tmp_path, provider)
    called, streamed = await _both(gateway, CallSpec("priced", MESSAGES, cache="off"))
    await gateway.aclose()
    assert called.completion.usage == streamed.completion.usage
    assert called.completion.usage.prompt_tokens > 0
    assert called.completion.cost_usd == pytest.approx(streamed.completion.cost_usd)
    first, second = _recorded(tmp_path)
    assert first == pytest.approx(second)


@pytest.mark.local_model
@pytest.mark.parametrize(
    "params",
    [
        {"max_tokens": 3},  # stops at the limit
        {"max_tokens": 64, "stop": [" France"]},  # stops at a stop sequence
        {"max_tokens": 64},  # stops at the end of generation
    ],
)
async def test_the_local_model_counts_a_stream_as_llama_cpp_counts_a_call(
    tmp_path: Path, params: dict[str, Any]
) -> None:
    provider = LocalProvider(WorkspaceConfig(), tmp_path)
    request = ChatRequest(model="local/smollm2-135m", messages=MESSAGES, params=params)
    done = await provider.complete(request)
    events = [e async for e in provider.stream(request)]
    streamed = events[-1]
    assert isinstance(streamed, Completion) and streamed.text == done.text
    assert streamed.finish_reason == done.finish_reason
    assert streamed.usage == done.usage and not done.usage.estimated
    # The prompt is counted as the chat template renders it, not as its bare text.
    bare = sum(len(m["content"].split()) for m in MESSAGES)
    assert done.usage.prompt_tokens > bare


@pytest.mark.local_model
async def test_compare_and_run_of_the_local_model_record_the_same_tokens(tmp_path: Path) -> None:
    gateway = _gateway(tmp_path)
    spec = CallSpec("local/smollm2-135m", MESSAGES, params={"max_tokens": 16}, cache="off")
    called, streamed = await _both(gateway, spec)
    await gateway.aclose()
    assert called.completion.usage == streamed.completion.usage
    assert called.completion.cost_usd == streamed.completion.cost_usd == 0.0
    first, second = _recorded(tmp_path)
    assert first == second

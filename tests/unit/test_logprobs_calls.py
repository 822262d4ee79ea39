"""Token logprobs through the gateway: asked only when needed, parsed, cached, never made up.

The loopback stub (tests/stub_openai.py) answers logprobs only to a request whose body
has ``"logprobs": true``, as OpenAI does; its three logprobs sum to -0.6.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.providers.base import ChatRequest, Completion
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate
from tests.stub_openai import Reply, StubServer, stub_server

MESSAGES = [{"role": "user", "content": "Name a colour"}]
WANT = {"logprobs": True}
THREE = [-0.1, -0.3, -0.2]


def _gateway(tmp_path: Path, base: str) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)
    config = WorkspaceConfig(models={"lab": ModelAlias(model="openai/lab", api_base=base)})
    return Gateway(config, tmp_path, create_db_engine(db))


def _requests(tmp_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        rows = conn.execute("SELECT request FROM completion ORDER BY id").fetchall()
    return [json.loads(r[0]) for r in rows]


async def _stream(gateway: Gateway, spec: CallSpec) -> CallResult:
    events = [e async for e in gateway.stream(spec)]
    result = events[-1]
    assert isinstance(result, CallResult)
    return result


async def test_only_a_call_that_needs_them_asks_and_gets_them_whole_or_streamed(
    tmp_path: Path,
) -> None:
    server = StubServer(default=Reply(text="deep blue sea", logprobs=THREE))
    async with stub_server(server) as stub:
        gateway = _gateway(tmp_path, stub.base)
        plain = await gateway.call(CallSpec(model="lab", messages=MESSAGES, cache="off"))
        whole = await gateway.call(
            CallSpec(model="lab", messages=MESSAGES, overrides=WANT, cache="off")
        )
        streamed = await _stream(
            gateway, CallSpec(model="lab", messages=MESSAGES, overrides=WANT, cache="off")
        )
        await gateway.aclose()
    assert ["logprobs" in body for body in stub.requests] == [False, True, True]
    assert stub.requests[1]["logprobs"] is True
    assert plain.completion.logprobs is None
    for result in (whole, streamed):
        found = result.completion.logprobs
        assert found is not None and found.count == 3
        assert found.total == pytest.approx(-0.6)
    assert [r.get("logprobs") for r in _requests(tmp_path)] == [
        None,
        {"tokens": 3, "sum": pytest.approx(-0.6)},
        {"tokens": 3, "sum": pytest.approx(-0.6)},
    ]


async def test_cached_answers_carry_their_logprobs_and_old_entries_do_not_serve(
    tmp_path: Path,
) -> None:
    server = StubServer(default=Reply(text="red", logprobs=THREE))
    async with stub_server(server) as stub:
        gateway = _gateway(tmp_path, stub.base)
        without = await gateway.call(CallSpec(model="lab", messages=MESSAGES))
        first = await gateway.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        again = await gateway.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        await gateway.aclose()
        assert (without.cache, first.cache, again.cache) == ("miss", "miss", "exact")
        assert again.completion.logprobs == first.completion.logprobs
        assert len(stub.requests) == 2  # the answer without logprobs served nobody asking

        # From the database, in a new process.
        later = _gateway(tmp_path, stub.base)
        stored = await later.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        await later.aclose()
        assert stored.cache == "exact" and len(stub.requests) == 2
        assert stored.completion.logprobs == Logprobs(3, pytest.approx(-0.6))  # type: ignore[arg-type]

        # An entry that recorded nothing about logprobs (written before they existed)
        # is a miss for a call that needs them: it is asked again.
        with sqlite3.connect(tmp_path / "w.db") as conn:
            conn.execute("UPDATE completion SET request = json_remove(request, '$.logprobs')")
        fresh = _gateway(tmp_path, stub.base)
        asked = await fresh.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        await fresh.aclose()
        assert asked.cache == "miss" and len(stub.requests) == 3
        assert asked.completion.logprobs is not None


async def test_a_server_that_gives_none_is_recorded_and_served_as_none(tmp_path: Path) -> None:
    server = StubServer(default=Reply(text="green"))  # ignores the parameter
    async with stub_server(server) as stub:
        gateway = _gateway(tmp_path, stub.base)
        first = await gateway.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        second = await gateway.call(CallSpec(model="lab", messages=MESSAGES, overrides=WANT))
        await gateway.aclose()
    assert first.completion.logprobs is None and second.cache == "exact"
    assert second.completion.logprobs is None and len(stub.requests) == 1
    assert _requests(tmp_path)[0]["logprobs"] == {}  # asked, none given


def test_litellm_asks_only_providers_that_give_logprobs() -> None:
    from promptdeck.core.providers.litellm_adapter import LitellmProvider

    provider = LitellmProvider()
    for model, kept in [("anthropic/claude-3-5-haiku-latest", False), ("gemini/gemini-pro", True)]:
        kwargs = provider._kwargs(ChatRequest(model=model, messages=MESSAGES, params=WANT))
        assert ("logprobs" in kwargs) is kept, model
    plain = provider._kwargs(ChatRequest(model="gemini/gemini-pro", messages=MESSAGES))
    assert "logprobs" not in plain


async def test_litellm_parses_logprobs_whole_and_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptdeck.core.providers.litellm_adapter import LitellmProvider

    monkeypatch.setenv("STUB_KEY", "sk-stub")
    server = StubServer(default=Reply(text="deep blue sea", logprobs=THREE))
    async with stub_server(server) as stub:
        request = ChatRequest(
            model="openai/lab", messages=MESSAGES, params=WANT, api_base=stub.base,
            api_key_env="STUB_KEY",
        )  # fmt: skip
        provider = LitellmProvider()
        whole = await provider.complete(request)
        events = [e async for e in provider.stream(request)]
    streamed = events[-1]
    assert isinstance(streamed, Completion)
    assert all(body.get("logprobs") is True for body in stub.requests)
    for done in (whole, streamed):
        assert done.logprobs is not None and done.logprobs.count == 3
        assert done.logprobs.total == pytest.approx(-0.6)

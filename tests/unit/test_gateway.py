"""The gateway: caches, retries, fallbacks, budgets, cost, traces and secrets."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from promptdeck.config import BudgetConfig, CacheConfig, ModelAlias, WorkspaceConfig
from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.providers.base import ErrorKind, Provider, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.providers.router import Target
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.migrations import migrate
from tests.stub_openai import Reply, StubServer, stub_server

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def _gateway(
    tmp_path: Path,
    config: WorkspaceConfig,
    providers: dict[str, Provider] | Provider | None = None,
    **kwargs: Any,
) -> Gateway:
    from promptdeck.store.db import create_db_engine

    db = tmp_path / "w.db"
    migrate(db)
    factory = None
    if providers is not None:

        def factory(target: Target) -> Provider:
            if isinstance(providers, dict):
                return providers[target.model]
            return providers

    sleeps: list[float] = kwargs.pop("sleeps", [])

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return Gateway(
        config, tmp_path, create_db_engine(db), provider_factory=factory, sleep=sleep, **kwargs
    )


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return conn.execute(sql).fetchall()


async def test_a_call_is_stored_with_a_trace_and_served_from_the_exact_cache(
    tmp_path: Path,
) -> None:
    fake = FakeProvider.answering("Paris.", "Lyon?")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    first = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    second = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    await gateway.aclose()
    assert first.completion.text == "Paris." and first.cache == "miss"
    assert second.completion.text == "Paris." and second.cache == "exact"
    assert second.completion.cost_usd == 0 and len(fake.requests) == 1
    traces = _rows(tmp_path, "SELECT uid, status, model FROM trace ORDER BY id")
    assert [t[0] for t in traces] == [first.trace_id, second.trace_id]
    spans = _rows(tmp_path, "SELECT name, attributes FROM span ORDER BY id")
    names = [s[0] for s in spans]
    assert names == ["cache.lookup", "chat fake/m", "cache.lookup"]
    assert '"gen_ai.usage.output_tokens": 1' in spans[1][1]


async def test_prefetched_answers_and_misses_skip_the_per_call_lookup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptdeck.store import cache_repo

    fake = FakeProvider(default=lambda r: f"answer to {r.messages[-1]['content']}")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    asked = [CallSpec(model="fake/m", messages=[{"role": "user", "content": "one"}])]
    await gateway.call(asked[0])
    await gateway.flush()
    both = [*asked, CallSpec(model="fake/m", messages=[{"role": "user", "content": "two"}])]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a per-call look-up was made")

    monkeypatch.setattr(cache_repo, "find_exact", refuse)
    hits = await gateway.prefetch(both)
    assert [hit.text if hit else None for hit in hits] == ["answer to one", None]
    served, fresh = [await gateway.call(spec) for spec in both]
    assert (served.cache, fresh.cache) == ("exact", "miss")
    assert fresh.completion.text == "answer to two" and len(fake.requests) == 2
    # Each prefetched answer serves once; a call not prefetched looks itself up.
    monkeypatch.undo()
    again = await gateway.call(both[0])
    await gateway.aclose()
    assert again.cache == "exact" and len(fake.requests) == 2


async def test_aclose_writes_at_once_without_waiting_out_the_batch_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end of a command does not wait for the batched write's timer to run out."""
    import asyncio

    from promptdeck.core.gateway import engine

    monkeypatch.setattr(engine, "FLUSH_DELAY", 3600.0)
    gateway = _gateway(tmp_path, WorkspaceConfig(), FakeProvider.answering("Paris."))
    result = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    assert _rows(tmp_path, "SELECT count(*) FROM trace") == [(0,)]  # still batched
    await asyncio.wait_for(gateway.aclose(), timeout=60)
    assert _rows(tmp_path, "SELECT uid FROM trace") == [(result.trace_id,)]


async def test_records_that_come_while_a_batch_is_written_are_written_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from promptdeck.core.gateway import engine

    monkeypatch.setattr(engine, "FLUSH_DELAY", 0.0)  # writes start while calls still finish
    fake = FakeProvider(default=lambda r: f"answer {len(fake.requests)}")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    calls = [CallSpec(model="fake/m", messages=MESSAGES, repeat=i) for i in range(40)]
    await asyncio.gather(*(gateway.call(spec) for spec in calls))
    await gateway.aclose()
    assert _rows(tmp_path, "SELECT count(*) FROM trace") == [(40,)]


async def test_trace_ids_are_unique_hex(tmp_path: Path) -> None:
    from promptdeck.core.gateway.inflight import trace_uid

    ids = {trace_uid() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


async def test_repeat_index_and_cache_modes(tmp_path: Path) -> None:
    fake = FakeProvider(default=lambda r: f"answer {len(fake.requests)}")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    texts = [
        (await gateway.call(CallSpec(model="fake/m", messages=MESSAGES, repeat=i))).completion.text
        for i in range(3)
    ]
    assert texts == ["answer 1", "answer 2", "answer 3"]
    again = [
        (await gateway.call(CallSpec(model="fake/m", messages=MESSAGES, repeat=i))).completion.text
        for i in range(3)
    ]
    assert again == texts and len(fake.requests) == 3
    off = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES, cache="off"))
    write = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES, cache="write"))
    assert off.cache == "off" and write.cache == "miss" and len(fake.requests) == 5
    await gateway.aclose()
    assert _rows(tmp_path, "SELECT count(*) FROM cache_entry")[0][0] == 3


async def test_errors_are_values_and_never_cached(tmp_path: Path) -> None:
    fake = FakeProvider(script=[ProviderError(ErrorKind.BAD_REQUEST, "bad prompt")], default="ok")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    failed = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    assert failed.completion.error == "bad prompt" and not failed.completion.ok
    ok = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    assert ok.completion.text == "ok" and ok.cache == "miss"
    await gateway.aclose()
    rows = _rows(tmp_path, "SELECT status, error FROM trace ORDER BY id")
    assert rows == [("error", "bad prompt"), ("ok", None)]


async def test_retries_honour_retry_after_on_a_local_stub(tmp_path: Path) -> None:
    server = StubServer(replies=[Reply(status=429, headers={"Retry-After": "2"})])
    async with stub_server(server) as stub:
        config = WorkspaceConfig(models={"lab": ModelAlias(model="openai/lab", api_base=stub.base)})
        sleeps: list[float] = []
        gateway = _gateway(tmp_path, config, sleeps=sleeps)
        result = await gateway.call(CallSpec(model="lab", messages=MESSAGES))
        await gateway.aclose()
    assert result.completion.text == "stub answer"
    assert result.completion.retries == 1 and sleeps == [2.0]
    assert len(stub.requests) == 2 and stub.requests[0]["model"] == "lab"


async def test_backoff_grows_with_jitter_and_gives_one_clear_error(tmp_path: Path) -> None:
    server = StubServer(default=Reply(status=503))
    async with stub_server(server) as stub:
        config = WorkspaceConfig(
            max_retries=3, models={"lab": ModelAlias(model="openai/lab", api_base=stub.base)}
        )
        sleeps: list[float] = []
        gateway = _gateway(tmp_path, config, sleeps=sleeps)
        result = await gateway.call(CallSpec(model="lab", messages=MESSAGES))
        await gateway.aclose()
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]
    assert 0.25 <= sleeps[0] <= 0.5
    error = result.completion.error or ""
    assert "HTTP 503" in error and "after 3 retries" in error and "\n" not in error


async def test_a_dead_endpoint_fails_fast_after_the_first_call(tmp_path: Path) -> None:
    config = WorkspaceConfig(
        max_retries=2,
        models={"dead": ModelAlias(model="openai/x", api_base="http://127.0.0.1:9/v1")},
    )
    sleeps: list[float] = []
    gateway = _gateway(tmp_path, config, sleeps=sleeps)
    results = [await gateway.call(CallSpec(model="dead", messages=MESSAGES)) for _ in range(5)]
    await gateway.aclose()
    assert len(sleeps) == 2  # only the first call retried
    errors = {r.completion.error for r in results}
    assert len(errors) == 1 and "cannot reach http://127.0.0.1:9/v1" in errors.pop()  # type: ignore[operator]


async def test_fallback_on_rate_limit_records_who_answered(tmp_path: Path) -> None:
    primary = FakeProvider(default=ProviderError(ErrorKind.RATE_LIMIT, "429 slow down"))
    backup = FakeProvider.answering("from backup")
    config = WorkspaceConfig(
        max_retries=1,
        models={
            "main": ModelAlias(model="fake/main", on_rate_limit="spare"),
            "spare": ModelAlias(model="fake/spare"),
        },
    )
    gateway = _gateway(tmp_path, config, {"fake/main": primary, "fake/spare": backup})
    result = await gateway.call(CallSpec(model="main", messages=MESSAGES))
    await gateway.aclose()
    assert result.completion.text == "from backup"
    assert result.completion.model == "main" and result.completion.answered_by == "fake/spare"
    assert len(primary.requests) == 2
    spans = _rows(tmp_path, "SELECT name, status FROM span WHERE kind = 'llm' ORDER BY id")
    assert spans == [("chat fake/main", "error"), ("chat fake/spare", "ok")]
    assert _rows(tmp_path, "SELECT answered_by FROM completion") == [("fake/spare",)]


async def test_on_timeout_cached_serves_the_last_answer(tmp_path: Path) -> None:
    fake = FakeProvider(script=["cached answer"], default=ProviderError(ErrorKind.TIMEOUT, "slow"))
    config = WorkspaceConfig(
        max_retries=0, models={"m": ModelAlias(model="fake/m", on_timeout="cached")}
    )
    gateway = _gateway(tmp_path, config, fake)
    await gateway.call(CallSpec(model="m", messages=MESSAGES))
    await gateway.flush()
    later = await gateway.call(CallSpec(model="m", messages=MESSAGES, cache="write"))
    await gateway.aclose()
    assert later.completion.text == "cached answer" and later.completion.cached == "exact"


async def test_on_error_fallback_does_not_loop(tmp_path: Path) -> None:
    bad = FakeProvider(default=ProviderError(ErrorKind.SERVER, "boom"))
    config = WorkspaceConfig(
        max_retries=0,
        models={
            "a": ModelAlias(model="fake/a", on_error="b"),
            "b": ModelAlias(model="fake/b", on_error="a"),
        },
    )
    gateway = _gateway(tmp_path, config, bad)
    result = await gateway.call(CallSpec(model="a", messages=MESSAGES))
    await gateway.aclose()
    assert not result.completion.ok and len(bad.requests) == 2
    assert "fallback b failed too" in (result.completion.error or "")


async def test_a_timeout_is_retried_then_reported(tmp_path: Path) -> None:
    slow = FakeProvider(delay=0.5, default="late")
    config = WorkspaceConfig(max_retries=1, models={"m": ModelAlias(model="fake/m", timeout=0.05)})
    gateway = _gateway(tmp_path, config, slow)
    result = await gateway.call(CallSpec(model="m", messages=MESSAGES))
    await gateway.aclose()
    assert result.completion.error_kind is ErrorKind.TIMEOUT
    assert "no answer within 0.05 s" in (result.completion.error or "")


async def test_concurrency_limit_per_model(tmp_path: Path) -> None:
    import asyncio

    running = 0
    peak = 0

    async def tracked(request: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return await FakeProvider.answering("x").complete(request)

    fake = FakeProvider()
    fake.complete = tracked  # type: ignore[method-assign]
    config = WorkspaceConfig.model_validate({"concurrency": {"per_model": {"fake/m": 2}}})
    gateway = _gateway(tmp_path, config, fake)
    await asyncio.gather(
        *[gateway.call(CallSpec(model="fake/m", messages=MESSAGES, repeat=i)) for i in range(8)]
    )
    await gateway.aclose()
    assert peak == 2


async def test_costs_from_alias_override_and_zero_for_local(tmp_path: Path) -> None:
    fake = FakeProvider.answering("one two three")
    config = WorkspaceConfig(
        models={
            "priced": ModelAlias(
                model="fake/p", input_cost_per_token=0.001, output_cost_per_token=0.002
            )
        }
    )
    gateway = _gateway(tmp_path, config, fake)
    result = await gateway.call(CallSpec(model="priced", messages=MESSAGES))
    await gateway.aclose()
    usage = result.completion.usage
    assert result.completion.cost_usd == pytest.approx(
        usage.prompt_tokens * 0.001 + usage.completion_tokens * 0.002
    )
    assert gateway.costs.prices("local/smollm2-135m", "local/smollm2-135m") == (0.0, 0.0)
    assert _rows(tmp_path, "SELECT model, cost_usd FROM spend") == [
        ("fake/p", pytest.approx(result.completion.cost_usd))
    ]


def test_litellm_price_map_is_used_offline(tmp_path: Path) -> None:
    gateway = _gateway(tmp_path, WorkspaceConfig())
    prices = gateway.costs.prices("openai/gpt-4o-mini", "openai/gpt-4o-mini")
    assert prices is not None and prices[0] > 0 and prices[1] > prices[0]
    assert gateway.costs.prices("openai/no-such-model-xyz", "openai/no-such-model-xyz") is None


def _budget_config(action: str) -> WorkspaceConfig:
    return WorkspaceConfig(
        models={
            "pricey": ModelAlias(model="fake/p", input_cost_per_token=0.01),
            "cheap": ModelAlias(model="fake/c"),
        },
        budgets={"daily": BudgetConfig(limit_usd=0.05, period="day", action=action)},
    )


async def test_a_block_budget_stops_calls_with_its_name(tmp_path: Path) -> None:
    fake = FakeProvider(default="ok")
    gateway = _gateway(tmp_path, _budget_config("block"), fake)
    results = [
        await gateway.call(CallSpec(model="pricey", messages=MESSAGES, repeat=i)) for i in range(3)
    ]
    await gateway.aclose()
    assert results[0].completion.ok
    blocked = results[-1].completion
    assert blocked.error_kind is ErrorKind.BUDGET
    assert "budget 'daily' is exhausted" in (blocked.error or "")
    events = _rows(tmp_path, "SELECT budget, threshold, action FROM budget_event ORDER BY id")
    assert ("daily", 1.0, "block") in events and ("daily", 0.5, "alert") in events


async def test_a_switch_budget_moves_to_the_cheaper_model(tmp_path: Path) -> None:
    pricey, cheap = FakeProvider(default="pricey"), FakeProvider(default="cheap")
    gateway = _gateway(
        tmp_path, _budget_config("switch_to: cheap"), {"fake/p": pricey, "fake/c": cheap}
    )
    results = [
        await gateway.call(CallSpec(model="pricey", messages=MESSAGES, repeat=i)) for i in range(3)
    ]
    await gateway.aclose()
    assert [r.completion.text for r in results][-1] == "cheap"
    assert any("switched to cheap" in w for w in results[-1].warnings)


async def test_spend_from_earlier_processes_counts(tmp_path: Path) -> None:
    fake = FakeProvider(default="ok")
    first = _gateway(tmp_path, _budget_config("block"), fake)
    for i in range(2):
        await first.call(CallSpec(model="pricey", messages=MESSAGES, repeat=i))
    await first.aclose()
    second = _gateway(tmp_path, _budget_config("block"), fake)
    result = await second.call(CallSpec(model="pricey", messages=MESSAGES, repeat=9))
    await second.aclose()
    assert result.completion.error_kind is ErrorKind.BUDGET


class WordEmbedder:
    """A fake embedder: bag of words hashed into 64 dimensions, unit norm."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace("?", "").split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


async def test_semantic_cache_serves_near_identical_requests(tmp_path: Path) -> None:
    fake = FakeProvider(default=lambda r: f"answer {len(fake.requests)}")
    config = WorkspaceConfig(cache=CacheConfig(semantic=True, semantic_threshold=0.8))
    gateway = _gateway(tmp_path, config, fake, embedder=WordEmbedder())
    a = await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    near = [{"role": "user", "content": "what is the capital of france"}]
    b = await gateway.call(CallSpec(model="fake/m", messages=near))
    far = [{"role": "user", "content": "Write a poem about autumn leaves"}]
    c = await gateway.call(CallSpec(model="fake/m", messages=far))
    other_params = await gateway.call(
        CallSpec(model="fake/m", messages=near, params={"temperature": 1.0})
    )
    await gateway.aclose()
    assert b.cache == "semantic" and b.completion.text == a.completion.text
    assert c.cache == "miss" and other_params.cache == "miss"
    assert len(fake.requests) == 3
    # A new gateway finds the stored vectors in the database.
    again = _gateway(tmp_path, config, fake, embedder=WordEmbedder())
    d = await again.call(CallSpec(model="fake/m", messages=near, repeat=0, cache="read"))
    await again.aclose()
    assert d.cache in ("exact", "semantic") and len(fake.requests) == 3


async def test_shadow_mode_records_without_serving(tmp_path: Path) -> None:
    fake = FakeProvider(default="Paris is the capital of France.")
    config = WorkspaceConfig(cache=CacheConfig(semantic=True, shadow=True, semantic_threshold=0.8))
    gateway = _gateway(tmp_path, config, fake, embedder=WordEmbedder())
    await gateway.call(CallSpec(model="fake/m", messages=MESSAGES))
    near = [{"role": "user", "content": "what is the capital of france"}]
    b = await gateway.call(CallSpec(model="fake/m", messages=near))
    await gateway.aclose()
    assert b.cache == "miss" and len(fake.requests) == 2
    assert b.shadow_similarity is not None and b.shadow_similarity > 0.8
    rows = _rows(tmp_path, "SELECT would_serve, answer_similarity FROM semantic_shadow")
    assert rows == [(1, pytest.approx(1.0))]


async def test_streaming_yields_deltas_then_the_result(tmp_path: Path) -> None:
    fake = FakeProvider.answering("one two three")
    gateway = _gateway(tmp_path, WorkspaceConfig(), fake)
    events = [e async for e in gateway.stream(CallSpec(model="fake/m", messages=MESSAGES))]
    cached = [e async for e in gateway.stream(CallSpec(model="fake/m", messages=MESSAGES))]
    await gateway.aclose()
    *deltas, result = events
    assert "".join(str(d) for d in deltas) == "one two three"
    assert result.completion.text == "one two three"  # type: ignore[union-attr]
    assert cached[-1].cache == "exact"  # type: ignore[union-attr]


async def test_streaming_over_http(tmp_path: Path) -> None:
    async with stub_server(StubServer(default=Reply(text="a b c"))) as stub:
        config = WorkspaceConfig(models={"lab": ModelAlias(model="openai/lab", api_base=stub.base)})
        gateway = _gateway(tmp_path, config)
        events = [e async for e in gateway.stream(CallSpec(model="lab", messages=MESSAGES))]
        await gateway.aclose()
    *deltas, result = events
    assert "".join(str(d) for d in deltas).strip() == "a b c"
    assert result.completion.usage.completion_tokens == 3  # type: ignore[union-attr]
    assert result.completion.ttft_ms is not None  # type: ignore[union-attr]


SECRET = "sk-promptdeck-FAKE-KEY-0123456789abcdef"


async def test_keys_never_reach_the_workspace(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server = StubServer(
        replies=[Reply(status=401, body=f'{{"error": {{"message": "bad key {SECRET}"}}}}')],
        default=Reply(text="fine"),
    )
    async with stub_server(server) as stub:
        config = WorkspaceConfig(
            models={
                "lab": ModelAlias(model="openai/lab", api_base=stub.base, api_key_env="LAB_API_KEY")
            }
        )
        gateway = Gateway(config, workspace.paths.root, workspace.engine)
        failed = await gateway.call(CallSpec(model="lab", messages=MESSAGES))
        ok = await gateway.call(CallSpec(model="lab", messages=MESSAGES))
        await gateway.aclose()
    assert stub.headers[0]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in (failed.completion.error or "") and "***" in (
        failed.completion.error or ""
    )
    assert ok.completion.text == "fine"
    from promptdeck.store.traces_repo import find_trace

    with workspace.session() as session:
        detail = find_trace(session, ok.trace_id)
    assert detail is not None
    from promptdeck.core.gateway.otlp import export_otlp

    (workspace.paths.state / "export.json").write_text(export_otlp([detail]), encoding="utf-8")
    workspace.engine.dispose()
    needle = SECRET.encode()
    scanned = 0
    for path in workspace.paths.root.rglob("*"):
        if path.is_file():
            scanned += 1
            assert needle not in path.read_bytes(), path
            assert needle[:20] not in path.read_bytes(), path
    assert scanned >= 3


async def test_a_stream_that_cannot_start_falls_back_to_a_retried_call(tmp_path: Path) -> None:
    fake = FakeProvider(
        script=[ProviderError(ErrorKind.SERVER, "503"), ProviderError(ErrorKind.SERVER, "503")],
        default="recovered",
    )
    sleeps: list[float] = []
    gateway = _gateway(tmp_path, WorkspaceConfig(max_retries=2), fake, sleeps=sleeps)
    events = [e async for e in gateway.stream(CallSpec(model="fake/m", messages=MESSAGES))]
    await gateway.aclose()
    assert events[0] == "recovered" and events[-1].completion.text == "recovered"  # type: ignore[union-attr]
    assert len(sleeps) == 1  # the stream failed once, the call retried once


async def test_a_silent_stream_times_out(tmp_path: Path) -> None:
    slow = FakeProvider(delay=0.5, default="late")
    config = WorkspaceConfig(max_retries=0, models={"m": ModelAlias(model="fake/m", timeout=0.05)})
    gateway = _gateway(tmp_path, config, slow)
    events = [e async for e in gateway.stream(CallSpec(model="m", messages=MESSAGES))]
    await gateway.aclose()
    result = events[-1]
    assert result.completion.error_kind is ErrorKind.TIMEOUT  # type: ignore[union-attr]

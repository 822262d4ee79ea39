"""Each stage of a gateway call, read and tested on its own (no provider, no event loop)."""

from __future__ import annotations

from pathlib import Path

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.gateway import begin_stage, cache_stage, record_stage
from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.gateway.exact_cache import fresh_hit
from promptdeck.core.gateway.record_stage import Recorders
from promptdeck.core.providers.base import Completion, ErrorKind, Usage
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def _gateway(tmp_path: Path, config: WorkspaceConfig) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)
    fake = FakeProvider(default="Paris.")
    return Gateway(config, tmp_path, create_db_engine(db), provider_factory=lambda t: fake)


def test_begin_resolves_the_alias_merges_params_and_keys_the_request(tmp_path: Path) -> None:
    config = WorkspaceConfig(
        models={"hot": ModelAlias(model="fake/m", params={"temperature": 1.2})}
    )
    gateway = _gateway(tmp_path, config)
    spec = CallSpec(model="hot", messages=MESSAGES, params={"temperature": 0.9}, render_ms=2.0)
    call, blocked = begin_stage.begin(spec, config, gateway.budgets, gateway.router)
    assert blocked is None
    assert call.target.model == "fake/m"
    assert call.params["temperature"] == 1.2  # the alias's params over the prompt's
    assert call.key == begin_stage.cache_key(gateway.router, spec) == gateway.cache_key(spec)
    assert [s.name for s in call.spans] == ["render"]
    assert call.spans[0].attributes["promptdeck.prompt.variables"] == []


def test_begin_without_a_render_has_no_render_span(tmp_path: Path) -> None:
    config = WorkspaceConfig()
    gateway = _gateway(tmp_path, config)
    call, _ = begin_stage.begin(
        CallSpec(model="fake/m", messages=MESSAGES), config, gateway.budgets, gateway.router
    )
    assert call.spans == []


async def test_the_cache_stage_serves_what_the_record_stage_learned(tmp_path: Path) -> None:
    config = WorkspaceConfig()
    gateway = _gateway(tmp_path, config)
    spec = CallSpec(model="fake/m", messages=MESSAGES)
    first, _ = begin_stage.begin(spec, config, gateway.budgets, gateway.router)
    assert cache_stage.lookup_exact(first, gateway.exact, config) is None
    assert [s.name for s in first.spans] == ["cache.lookup"]
    answer = Completion(text="Paris.", usage=Usage(7, 2), cost_usd=0.0, model="fake/m")
    parts = Recorders(config, gateway.costs, gateway.budgets, gateway.exact, None)
    result, record = await record_stage.finish(first, answer, [], None, parts)
    assert result.cache == "miss" and record.cache is not None
    second, _ = begin_stage.begin(spec, config, gateway.budgets, gateway.router)
    hit = cache_stage.lookup_exact(second, gateway.exact, config)
    assert hit is not None and hit == fresh_hit(answer)
    served = cache_stage.served(second, hit, "exact")
    assert (served.text, served.cached, served.cost_usd) == ("Paris.", "exact", 0.0)
    result, record = await record_stage.finish(second, served, [], hit, parts)
    assert result.cache == "exact" and record.cache is None and record.spend is None


async def test_the_record_stage_keeps_a_failure_out_of_the_caches(tmp_path: Path) -> None:
    config = WorkspaceConfig()
    gateway = _gateway(tmp_path, config)
    call, _ = begin_stage.begin(
        CallSpec(model="fake/m", messages=MESSAGES), config, gateway.budgets, gateway.router
    )
    failed = Completion.failure("fake/m", "connection refused", ErrorKind.CONNECTION)
    parts = Recorders(config, gateway.costs, gateway.budgets, gateway.exact, None)
    result, record = await record_stage.finish(call, failed, [], None, parts)
    assert not result.completion.ok and record.cache is None and record.spend is None
    assert gateway.exact.find(call.key) is None

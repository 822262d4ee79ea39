"""Money: an alias's price is its own; an unknown price is unknown, everywhere it shows."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptdeck.config import (
    BudgetConfig,
    EnsembleConfig,
    ModelAlias,
    WorkspaceConfig,
)
from promptdeck.core.evals.runner import EvalRunner, plan_suite
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.costs import CostBook
from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import RuntimeFailureError
from promptdeck.paths import WorkspacePaths
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate
from promptdeck.store.stats_repo import call_stats
from tests.helpers import run_cli

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
KNOWN = "openai/gpt-4o-mini"  # in litellm's bundled price map


def _gateway(tmp_path: Path, config: WorkspaceConfig, fake: FakeProvider) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)
    return Gateway(config, tmp_path, create_db_engine(db), provider_factory=lambda t: fake)


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return conn.execute(sql).fetchall()


def _priced(model: str = "openai/stub-a", **prices: float) -> WorkspaceConfig:
    return WorkspaceConfig(
        models={
            "priced": ModelAlias(model=model, **(prices or {"input_cost_per_token": 0.001})),
            "plain": ModelAlias(model=model),
        }
    )


def test_an_alias_price_is_that_alias_only() -> None:
    book = CostBook(_priced())
    assert book.prices("priced") == (0.001, 0.0)
    assert book.prices("openai/stub-a") is None  # the bare model: no price known
    assert book.prices("plain") is None  # another alias of the same model
    known = CostBook(_priced(KNOWN, input_cost_per_token=0.5, output_cost_per_token=0.25))
    litellm_prices = known.prices(KNOWN)
    assert known.prices("priced") == (0.5, 0.25)
    assert litellm_prices is not None and litellm_prices[0] < 0.001
    assert known.prices("plain") == litellm_prices
    # A side the alias leaves out is litellm's price for its model.
    half = CostBook(_priced(KNOWN, input_cost_per_token=0.5))
    assert half.prices("priced") == (0.5, litellm_prices[1])
    assert CostBook(WorkspaceConfig()).prices("local/smollm2-135m") == (0.0, 0.0)


async def test_bare_model_calls_cost_unknown_not_the_alias_price(tmp_path: Path) -> None:
    fake = FakeProvider(default="Paris")
    config = _priced().model_copy(
        update={"budgets": {"monthly": BudgetConfig(limit_usd=0.05, period="month")}}
    )
    gateway = _gateway(tmp_path, config, fake)
    bare = [
        await gateway.call(CallSpec(model="openai/stub-a", messages=MESSAGES, repeat=i))
        for i in range(100)
    ]
    aliased = await gateway.call(CallSpec(model="priced", messages=MESSAGES, cache="off"))
    await gateway.aclose()
    assert {r.completion.cost_usd for r in bare} == {None}
    usage = aliased.completion.usage
    assert aliased.completion.cost_usd == pytest.approx(usage.prompt_tokens * 0.001)
    # The unknown price is said once, and never counted as anyone's money.
    warned = [w for r in bare for w in r.warnings]
    assert len(warned) == 1 and "cannot count calls to openai/stub-a" in warned[0]
    assert _rows(tmp_path, "SELECT count(*) FROM budget_event") == [(0,)]
    assert _rows(tmp_path, "SELECT sum(cost_usd) FROM spend") == [
        (pytest.approx(aliased.completion.cost_usd),)
    ]
    traces = _rows(tmp_path, "SELECT model, cost_known, cost_usd FROM trace ORDER BY id")
    assert traces[0] == ("openai/stub-a", 0, 0.0) and traces[-1][:2] == ("priced", 1)
    assert _rows(tmp_path, "SELECT DISTINCT cost_known FROM completion WHERE model = 'priced'") == [
        (1,)
    ]
    spans = _rows(tmp_path, "SELECT attributes FROM span WHERE kind = 'llm' ORDER BY id")
    assert "promptdeck.cost_usd" not in json.loads(spans[0][0])
    with gateway._session() as session:
        stats = {s.model: s for s in call_stats(session, by_prompt=False)}
    assert stats["openai/stub-a"].unpriced == 100 and stats["openai/stub-a"].cost_text == "$?"
    assert stats["priced"].unpriced == 0 and stats["priced"].cost_text.startswith("$0.0")


async def test_a_fallback_is_priced_as_the_alias_that_answered(tmp_path: Path) -> None:
    from promptdeck.core.providers.base import ErrorKind, ProviderError

    fake = FakeProvider(script=[ProviderError(ErrorKind.SERVER, "down")], default="ok")
    config = WorkspaceConfig(
        max_retries=0,
        models={
            "main": ModelAlias(model="fake/a", input_cost_per_token=1.0, on_error="backup"),
            "backup": ModelAlias(model="fake/b", input_cost_per_token=0.001),
        },
    )
    gateway = _gateway(tmp_path, config, fake)
    result = await gateway.call(CallSpec(model="main", messages=MESSAGES))
    # Streamed: the stream cannot start, the call falls back to `backup`.
    fake.extend([ProviderError(ErrorKind.SERVER, "down"), ProviderError(ErrorKind.SERVER, "down")])
    spec = CallSpec(model="main", messages=MESSAGES, cache="off")
    streamed = [e async for e in gateway.stream(spec)]
    await gateway.aclose()
    tokens = result.completion.usage.prompt_tokens
    assert result.completion.cost_usd == pytest.approx(tokens * 0.001)
    last = streamed[-1]
    assert isinstance(last, engine.CallResult) and last.completion.answered_by == "fake/b"
    assert last.completion.cost_usd == pytest.approx(tokens * 0.001)


def test_estimates_price_by_alias_and_ensembles_by_their_members() -> None:
    config = WorkspaceConfig(
        judge_model="judge",
        models={
            "a": ModelAlias(model="fake/a", input_cost_per_token=0.01, output_cost_per_token=0.02),
            "judge": ModelAlias(model="fake/j", input_cost_per_token=0.001),
        },
        ensembles={
            "both": EnsembleConfig(members=["a", "a"]),
            "judged": EnsembleConfig(members=["a", "a"], strategy="judge"),
            "half": EnsembleConfig(members=["a", "fake/a"]),
        },
    )
    book = CostBook(config)
    assert book.estimate("a", 100, 10) == pytest.approx(1.2)
    assert book.estimate("fake/a", 100, 10) is None
    assert book.estimate("both", 100, 10) == pytest.approx(2.4)
    assert book.estimate("judged", 100, 10) == pytest.approx(2.4 + 120 * 0.001)
    assert book.estimate("half", 100, 10) is None


SUITE = """\
prompts: [classify-ticket]
models: [{model}]
cases:
  - vars: {{ticket: I was charged twice}}
    expected: billing
    assert:
      - type: equals
"""


def _run(workspace: Workspace, model: str, **kwargs: Any) -> Any:
    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE.format(model=model))

    async def go() -> Any:
        gateway = Gateway.for_workspace(workspace)
        try:
            return await EvalRunner(workspace, gateway, **kwargs).run(plan_suite(workspace, "mini"))
        finally:
            await gateway.aclose()

    return asyncio.run(go())


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default="billing")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def _with_aliases(workspace: Workspace) -> Workspace:
    config = workspace.paths.config
    config.write_text(
        config.read_text()
        + '\n[models.priced]\nmodel = "openai/stub-a"\ninput_cost_per_token = 0.001\n'
        + '\n[models.wordy]\nmodel = "openai/stub-a"\ninput_cost_per_token = 0.0\n'
        + "output_cost_per_token = 0.001\nparams = { max_tokens = 1000 }\n"
    )
    reopened = Workspace.open(workspace.paths)
    reopened.sync()
    return reopened


def test_max_cost_refuses_a_model_with_no_known_price(
    workspace: Workspace, fake: FakeProvider
) -> None:
    ws = _with_aliases(workspace)
    try:
        with pytest.raises(RuntimeFailureError) as caught:
            _run(ws, "openai/stub-a", max_cost=1000.0)
        assert "no price is known for openai/stub-a" in caught.value.title
        assert fake.requests == []
        # Without a cap it runs, and says its cost is unknown rather than $0.
        events: list[Any] = []

        class Collect:
            def started(self, event: Any) -> None:
                events.append(event)

            def cell(self, event: Any) -> None:
                pass

            def finished(self, event: Any) -> None:
                pass

        outcome = _run(ws, "openai/stub-a", reporter=Collect())
        assert outcome.status == "finished" and events[0].unpriced == ("openai/stub-a",)
    finally:
        ws.close()


def test_the_estimate_uses_the_alias_price_and_its_max_tokens(
    workspace: Workspace, fake: FakeProvider
) -> None:
    ws = _with_aliases(workspace)
    try:
        # classify-ticket asks max_tokens 5 ($0.005 out); the alias's 1000 wins: $1.
        with pytest.raises(RuntimeFailureError, match=r"estimated cost \$1\.0000 is over"):
            _run(ws, "wordy", max_cost=0.01)
        assert fake.requests == []
    finally:
        ws.close()


def test_run_and_traces_show_an_unknown_cost_as_unknown(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    code, out, _ = run_cli(
        capsys, *ws, "run", "summarize", "-m", "openai/stub-a", "-v", "text=Hi there."
    )
    assert code == 0 and "· cost unknown ·" in out and "$0.000000" not in out
    code, out, _ = run_cli(
        capsys, *ws, "run", "summarize", "-m", "openai/stub-a", "-v", "text=Hi.", "--json"
    )
    assert code == 0 and json.loads(out)["cost_usd"] is None
    code, out, _ = run_cli(capsys, *ws, "traces", "list")
    assert code == 0 and "$?" in out
    code, out, _ = run_cli(capsys, *ws, "traces", "list", "--json")
    assert [t["cost_usd"] for t in json.loads(out)] == [None, None]


def test_a_cost_assertion_on_an_unpriced_model_fails_as_unknown(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.sync()
    (workspace.paths.suites / "mini.suite.yaml").write_text(
        SUITE.format(model="openai/stub-a") + "      - type: cost\n        value: 0.01\n"
    )

    async def go() -> Any:
        gateway = Gateway.for_workspace(workspace)
        try:
            return await EvalRunner(workspace, gateway).run(plan_suite(workspace, "mini"))
        finally:
            await gateway.aclose()

    cell = asyncio.run(go()).cells[0]
    assert not cell.passed  # an unknown cost is not under any limit (it was "$0.000000")
    assert [s.reason for s in cell.scores if s.name.startswith("cost")] == ["cost unknown"]

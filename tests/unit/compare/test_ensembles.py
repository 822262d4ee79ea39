"""Ensembles: consensus, majority and judge strategies, failures, cost and traces."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from promptdeck.config import EnsembleConfig, WorkspaceConfig
from promptdeck.core.compare.ensembles import (
    consensus_score,
    normalise_answer,
    parse_citations,
    run_ensemble,
)
from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.providers.base import ErrorKind, Provider, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.providers.router import Target
from promptdeck.errors import ConfigError
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


class FixedEmbedder:
    """Embeds each known text to a fixed unit vector."""

    def __init__(self, vectors: dict[str, Sequence[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Any:
        self.calls.append(list(texts))
        rows = np.array([self.vectors[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _gateway(
    tmp_path: Path,
    ensembles: dict[str, EnsembleConfig],
    providers: dict[str, Provider],
    embedder: FixedEmbedder | None = None,
    **config: Any,
) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)

    def factory(target: Target) -> Provider:
        return providers[target.model]

    return Gateway(
        WorkspaceConfig(ensembles=ensembles, **config),
        tmp_path,
        create_db_engine(db),
        provider_factory=factory,
        embedder=embedder,
    )


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return conn.execute(sql).fetchall()


def _members(*answers: str | ProviderError, cost: float = 0.0) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for i, answer in enumerate(answers):
        fake = FakeProvider(script=[answer]) if isinstance(answer, ProviderError) else None
        fake = fake or FakeProvider(default=answer)
        fake.cost_per_token = cost
        providers[f"fake/m{i}"] = fake
    return providers


AGREE = {"Paris.": [1, 0, 0], "It is Paris.": [0.95, 0.1, 0], "Paris, France.": [0.9, 0.2, 0]}
DISAGREE = {"Paris.": [1, 0, 0], "Lyon.": [0, 1, 0], "Marseille.": [0, 0, 1]}


async def test_consensus_above_the_threshold_returns_the_preferred_answer(
    tmp_path: Path,
) -> None:
    providers = _members("Paris.", "It is Paris.", "Paris, France.", cost=0.001)
    ens = EnsembleConfig(members=list(providers), prefer="fake/m1")
    embedder = FixedEmbedder(AGREE)
    gateway = _gateway(tmp_path, {"trio": ens}, providers, embedder)
    outcome = await run_ensemble(gateway, CallSpec(model="trio", messages=MESSAGES), "trio")
    await gateway.aclose()
    done = outcome.result.completion
    assert done.ok and done.text == "It is Paris." and outcome.chosen == ("fake/m1",)
    assert not outcome.requires_review and outcome.agreement is not None
    assert outcome.agreement >= 0.85 and len(outcome.matrix) == 3
    assert outcome.matrix[0][0] == pytest.approx(1.0, abs=1e-5)
    # cost and tokens are the sums of the members
    member_costs = [m.result.completion.cost_usd for m in outcome.members]
    assert done.cost_usd == pytest.approx(sum(member_costs)) and done.cost_usd > 0
    assert done.usage.total_tokens == sum(
        m.result.completion.usage.total_tokens for m in outcome.members
    )
    traces = _rows(tmp_path, "SELECT uid, kind, model, cost_usd FROM trace ORDER BY id")
    kinds = [t[1] for t in traces]
    assert kinds.count("ensemble.member") == 3 and kinds.count("ensemble") == 1
    ens_trace = next(t for t in traces if t[1] == "ensemble")
    assert ens_trace[0] == outcome.result.trace_id and ens_trace[2] == "trio"
    assert ens_trace[3] == pytest.approx(done.cost_usd)
    spans = _rows(
        tmp_path,
        "SELECT s.name, s.kind, s.parent_id, s.attributes FROM span s JOIN trace t "
        f"ON s.trace_id = t.id WHERE t.uid = '{outcome.result.trace_id}' ORDER BY s.id",
    )
    assert [s[1] for s in spans] == [
        "ensemble",
        "ensemble.member",
        "ensemble.member",
        "ensemble.member",
        "ensemble.decision",
    ]
    assert all(s[2] is not None for s in spans[1:])
    member_attrs = json.loads(spans[2][3])
    assert member_attrs["gen_ai.output.text"] == "It is Paris."
    assert member_attrs["promptdeck.link.trace_id"] == outcome.members[1].result.trace_id
    decision = json.loads(spans[-1][3])
    assert decision["promptdeck.ensemble.requires_review"] is False
    assert decision["promptdeck.ensemble.agreement"] == pytest.approx(outcome.agreement)
    # spend is recorded once, on the members
    spend = _rows(tmp_path, "SELECT sum(cost_usd) FROM spend")[0][0]
    assert spend == pytest.approx(done.cost_usd)


async def test_consensus_without_prefer_returns_the_most_central_answer(tmp_path: Path) -> None:
    providers = _members("Paris.", "It is Paris.", "Paris, France.")
    ens = EnsembleConfig(members=list(providers))
    gateway = _gateway(tmp_path, {"trio": ens}, providers, FixedEmbedder(AGREE))
    outcome = await run_ensemble(gateway, CallSpec(model="trio", messages=MESSAGES), "trio")
    await gateway.aclose()
    assert outcome.result.completion.text == "It is Paris." and "most central" in outcome.decision


async def test_consensus_below_the_threshold_requires_review_and_keeps_alternatives(
    tmp_path: Path,
) -> None:
    providers = _members("Paris.", "Lyon.", "Marseille.")
    ens = EnsembleConfig(members=list(providers), prefer="fake/m0")
    gateway = _gateway(tmp_path, {"trio": ens}, providers, FixedEmbedder(DISAGREE))
    result = await gateway.call(CallSpec(model="trio", messages=MESSAGES))
    await gateway.aclose()
    assert result.completion.ok
    assert any("requires review" in w for w in result.warnings)
    assert consensus_score([[1, 0], [0, 1]]) == 0
    request = _rows(
        tmp_path,
        "SELECT c.request FROM completion c JOIN trace t ON t.completion_id = c.id "
        "WHERE t.kind = 'ensemble'",
    )[0][0]
    stored = json.loads(request)
    assert stored["requires_review"] is True
    assert stored["alternatives"] == {
        "fake/m0": "Paris.",
        "fake/m1": "Lyon.",
        "fake/m2": "Marseille.",
    }


async def test_majority_votes_on_normalised_answers(tmp_path: Path) -> None:
    providers = _members("Billing.", " billing", "Shipping")
    ens = EnsembleConfig(members=list(providers), strategy="majority", agreement_threshold=0.6)
    gateway = _gateway(tmp_path, {"vote": ens}, providers)
    outcome = await run_ensemble(gateway, CallSpec(model="vote", messages=MESSAGES), "vote")
    await gateway.aclose()
    assert outcome.result.completion.text == "Billing."
    assert outcome.chosen == ("fake/m0", "fake/m1")
    assert outcome.agreement == pytest.approx(2 / 3) and not outcome.requires_review


async def test_majority_flags_ties_and_low_agreement(tmp_path: Path) -> None:
    providers = _members('{"a": 1, "b": 2}', '```json\n{"b":2,"a":1}\n```', "no", "No!")
    ens = EnsembleConfig(members=list(providers), strategy="majority", agreement_threshold=0.5)
    gateway = _gateway(tmp_path, {"vote": ens}, providers)
    tie = await run_ensemble(gateway, CallSpec(model="vote", messages=MESSAGES), "vote")
    await gateway.aclose()
    assert tie.requires_review and tie.decision.startswith("tie")
    assert normalise_answer('{"b": 2, "a": 1}') == '{"a":1,"b":2}'
    assert normalise_answer("  Yes, Billing!! ") == "yes, billing"


async def test_majority_below_the_threshold_is_flagged(tmp_path: Path) -> None:
    providers = _members("A", "a.", "B")
    ens = EnsembleConfig(members=list(providers), strategy="majority")
    gateway = _gateway(tmp_path, {"vote": ens}, providers)
    outcome = await run_ensemble(gateway, CallSpec(model="vote", messages=MESSAGES), "vote")
    await gateway.aclose()
    assert outcome.result.completion.text == "A" and outcome.requires_review
    assert outcome.decision.startswith("low agreement")


async def test_judge_writes_the_final_answer_citing_members(tmp_path: Path) -> None:
    providers = _members("Paris.", "Lyon.")
    judge = FakeProvider(default="The capital is Paris.\nUsed: 1")
    providers["fake/judge"] = judge
    ens = EnsembleConfig(members=["fake/m0", "fake/m1"], strategy="judge", judge="fake/judge")
    gateway = _gateway(tmp_path, {"panel": ens}, providers)
    outcome = await run_ensemble(gateway, CallSpec(model="panel", messages=MESSAGES), "panel")
    await gateway.aclose()
    assert outcome.result.completion.text == "The capital is Paris."
    assert outcome.chosen == ("fake/m0",) and not outcome.requires_review
    prompt = judge.requests[0].messages[-1]["content"]
    assert "[1] (fake/m0)\nParis." in prompt and "[2] (fake/m1)\nLyon." in prompt
    kinds = [r[0] for r in _rows(tmp_path, "SELECT kind FROM trace")]
    assert "ensemble.judge" in kinds
    assert parse_citations("x\nUsed: fake/m1, 7", ["fake/m0", "fake/m1"]) == ("x", ("fake/m1",))


async def test_the_judge_uses_its_own_params_not_the_judged_prompts(tmp_path: Path) -> None:
    from promptdeck.config import ModelAlias

    providers = _members("Paris", "Paris")
    judge = FakeProvider(default="[1] (small) Paris is the capital.\nUsed: 1, 2")
    providers["fake/judge"] = judge
    panel = EnsembleConfig(members=["fake/m0", "fake/m1"], strategy="judge", judge="fake/judge")
    tuned = panel.model_copy(update={"judge": "careful", "judge_params": {"max_tokens": 300}})
    gateway = _gateway(
        tmp_path,
        {"panel": panel, "tuned": tuned},
        providers,
        models={"careful": ModelAlias(model="fake/judge", params={"temperature": 0.5, "seed": 9})},
    )
    # The judged prompt asks for 5 tokens at temperature 1; a --param asks for seed 1.
    spec = CallSpec(
        model="panel",
        messages=MESSAGES,
        params={"max_tokens": 5, "temperature": 1.0},
        overrides={"seed": 1},
    )
    outcome = await run_ensemble(gateway, spec, "panel")
    await run_ensemble(gateway, replace(spec, model="tuned"), "tuned")
    await gateway.aclose()
    members = [dict(r.params) for name in ("fake/m0", "fake/m1") for r in providers[name].requests]
    assert members[0] == {"max_tokens": 5, "temperature": 1.0, "seed": 1}
    assert [dict(r.params) for r in judge.requests] == [
        {"temperature": 0.0, "max_tokens": 1024},
        # the judge's alias over the defaults, the ensemble's judge_params over both
        {"temperature": 0.5, "seed": 9, "max_tokens": 300},
    ]
    assert outcome.result.completion.text == "[1] (small) Paris is the capital."


async def test_failed_members_are_reported_and_the_rest_decide(tmp_path: Path) -> None:
    providers = _members("Paris.", ProviderError(ErrorKind.AUTH, "bad key"), "It is Paris.")
    ens = EnsembleConfig(members=list(providers))
    embedder = FixedEmbedder(AGREE)
    gateway = _gateway(tmp_path, {"trio": ens}, providers, embedder)
    outcome = await run_ensemble(gateway, CallSpec(model="trio", messages=MESSAGES), "trio")
    await gateway.aclose()
    assert outcome.result.completion.ok
    assert [m.member for m in outcome.failed] == ["fake/m1"]
    assert outcome.answered == ("fake/m0", "fake/m2") and embedder.calls == [
        ["Paris.", "It is Paris."]
    ]
    assert "decided from 2 of 3 members (fake/m1 failed)" in outcome.decision
    assert any("fake/m1 failed: bad key" in w for w in outcome.result.warnings)


async def test_too_few_answers_is_an_error_value(tmp_path: Path) -> None:
    bad = ProviderError(ErrorKind.AUTH, "bad key")
    providers = _members("Paris.", bad, bad)
    ens = EnsembleConfig(members=list(providers))
    gateway = _gateway(tmp_path, {"trio": ens}, providers, FixedEmbedder(AGREE))
    result = await gateway.call(CallSpec(model="trio", messages=MESSAGES))
    await gateway.aclose()
    assert not result.completion.ok
    assert result.completion.error is not None
    assert "only 1 of 3 members answered (2 needed)" in result.completion.error
    status = _rows(tmp_path, "SELECT status FROM trace WHERE kind = 'ensemble'")
    assert status == [("error",)]


async def test_a_single_member_ensemble_needs_one_answer(tmp_path: Path) -> None:
    providers = _members("Paris.")
    gateway = _gateway(
        tmp_path, {"solo": EnsembleConfig(members=["fake/m0"])}, providers, FixedEmbedder(AGREE)
    )
    result = await gateway.call(CallSpec(model="solo", messages=MESSAGES))
    await gateway.aclose()
    assert result.completion.text == "Paris."
    assert EnsembleConfig(members=["a", "b"]).required_answers == 2


async def test_stream_dispatches_an_ensemble(tmp_path: Path) -> None:
    providers = _members("Paris.", "It is Paris.")
    ens = EnsembleConfig(members=list(providers), strategy="majority", agreement_threshold=0.1)
    gateway = _gateway(tmp_path, {"duo": ens}, providers)
    events = [e async for e in gateway.stream(CallSpec(model="duo", messages=MESSAGES))]
    await gateway.aclose()
    assert events[0] == "Paris." and isinstance(events[-1], CallResult)


async def test_a_nested_ensemble_is_a_config_error(tmp_path: Path) -> None:
    providers = _members("Paris.")
    ensembles = {
        "inner": EnsembleConfig(members=["fake/m0"]),
        "outer": EnsembleConfig(members=["inner", "fake/m0"]),
    }
    gateway = _gateway(tmp_path, ensembles, providers)
    with pytest.raises(ConfigError):
        await gateway.call(CallSpec(model="outer", messages=MESSAGES))
    await gateway.aclose()


async def test_an_embedder_that_cannot_load_is_an_error_value(tmp_path: Path) -> None:
    from promptdeck.errors import RuntimeFailureError

    class Broken:
        def embed(self, texts: Sequence[str]) -> Any:
            raise RuntimeFailureError("the MiniLM model is not installed", "install it")

    providers = _members("Paris.", "Lyon.")
    gateway = _gateway(tmp_path, {"duo": EnsembleConfig(members=list(providers))}, providers)
    outcome = await run_ensemble(
        gateway, CallSpec(model="duo", messages=MESSAGES), "duo", embedder=Broken()
    )
    await gateway.aclose()
    assert outcome.result.completion.error == (
        "ensemble duo: cannot compare the answers (the MiniLM model is not installed)"
    )


def test_ensemble_config_is_validated_with_its_line() -> None:
    from promptdeck.config import parse_config

    text = '[ensembles.duo]\nmembers = ["a/x", "b/y"]\nprefer = "c/z"\n'
    with pytest.raises(ConfigError, match=r"promptdeck.toml:1: ensembles.duo: .*prefer 'c/z'"):
        parse_config(text, Path("promptdeck.toml"))
    with pytest.raises(ConfigError, match="min_answers 3 is more than the members"):
        parse_config(text.replace('"c/z"', '"a/x"\nmin_answers = 3'), Path("promptdeck.toml"))
    with pytest.raises(ConfigError, match="strategy"):
        parse_config(text.replace('"c/z"', '"a/x"\nstrategy = "vote"'), Path("promptdeck.toml"))
    config = parse_config(text.replace('"c/z"', '"a/x"'), Path("promptdeck.toml"))
    assert config.ensembles["duo"].agreement_threshold == 0.85

"""Call parameters: one precedence (call > alias > prompt > workspace), recorded as sent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptdeck.config import ModelAlias, WorkspaceConfig, parse_config
from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.providers.base import ErrorKind, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.providers.params import effective_params, parse_param, parse_params
from promptdeck.core.providers.router import Target
from promptdeck.errors import UsageError
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate

MESSAGES = [{"role": "user", "content": "Name a colour."}]

W, P, A, C = {"temperature": 0.1}, {"temperature": 0.9}, {"temperature": 1.2}, {"temperature": 0.3}


@pytest.mark.parametrize(
    ("defaults", "prompt", "alias", "override", "expected"),
    [
        ({}, {}, {}, {}, {}),
        (W, {}, {}, {}, W),
        (W, P, {}, {}, P),
        (W, P, A, {}, A),
        (W, P, A, C, C),
        ({}, P, A, {}, A),  # the alias `smol-hot` beats the prompt's 0.9
        ({}, P, {}, C, C),
        (W, {}, A, {}, A),
        (W, {}, {}, C, C),
        # key by key: each level adds what the ones above leave out
        (
            {"seed": 1, "top_p": 0.5},
            {"max_tokens": 5, "top_p": 0.9},
            {"temperature": 1.2},
            {"max_tokens": 50},
            {"seed": 1, "top_p": 0.9, "max_tokens": 50, "temperature": 1.2},
        ),
        # None leaves the key to the levels below
        ({}, P, {"temperature": None}, {}, P),
    ],
)
def test_the_precedence_of_the_four_levels(
    defaults: dict[str, Any],
    prompt: dict[str, Any],
    alias: dict[str, Any],
    override: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    merged = effective_params(defaults=defaults, prompt=prompt, alias=alias, override=override)
    assert merged == expected


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("temperature=1.2", ("temperature", 1.2)),
        ("temperature=1", ("temperature", 1)),
        (" max_tokens = 64 ", ("max_tokens", 64)),
        ("seed=7", ("seed", 7)),
        ("stop=END", ("stop", "END")),
        ('stop=["a", "b"]', ("stop", ["a", "b"])),
        ("stop=42", ("stop", "42")),
        ("top_p=0.95", ("top_p", 0.95)),
    ],
)
def test_param_values_are_read_as_toml_or_json(pair: str, expected: tuple[str, Any]) -> None:
    assert parse_param(pair) == expected


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("temperature", "is not KEY=VALUE"),
        ("=1", "is not KEY=VALUE"),
        ("temprature=1", "unknown parameter 'temprature'"),
        ("max_tokens=many", "max_tokens must be an integer"),
        ("max_tokens=1.5", "max_tokens must be an integer"),
        ("temperature=true", "temperature must be a number"),
        ("stop=[1, 2]", "stop must be a string or a list of strings"),
    ],
)
def test_bad_params_are_one_line_usage_errors(pair: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_param(pair)
    assert message in caught.value.title and "\n" not in caught.value.title
    assert caught.value.hint


def test_a_repeated_param_keeps_the_last_value() -> None:
    assert parse_params(("temperature=0.1", "temperature=0.7")) == {"temperature": 0.7}


def test_workspace_defaults_are_read_from_promptdeck_toml(tmp_path: Path) -> None:
    config = parse_config(
        'params = { temperature = 0.3, seed = 4 }\n[models.hot]\nmodel = "fake/m"\n'
        "params = { temperature = 1.2 }\n",
        tmp_path / "promptdeck.toml",
    )
    assert config.params == {"temperature": 0.3, "seed": 4}
    assert isinstance(config.params["seed"], int)


def _gateway(tmp_path: Path, config: WorkspaceConfig, fake: FakeProvider) -> Gateway:
    db = tmp_path / "w.db"
    migrate(db)
    return Gateway(config, tmp_path, create_db_engine(db), provider_factory=lambda t: fake)


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return conn.execute(sql).fetchall()


def _config() -> WorkspaceConfig:
    return WorkspaceConfig(
        params={"temperature": 0.1, "seed": 3},
        models={
            "smol-hot": ModelAlias(model="fake/smol", params={"temperature": 1.2}),
            "smol": ModelAlias(model="fake/smol"),
        },
    )


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_alias_temperature_beats_the_prompts_and_is_what_the_trace_records(
    tmp_path: Path, streamed: bool
) -> None:
    fake = FakeProvider(default="blue")
    gateway = _gateway(tmp_path, _config(), fake)
    prompt = {"temperature": 0.9, "max_tokens": 5}
    specs = [
        CallSpec(model="smol-hot", messages=MESSAGES, params=prompt),
        CallSpec(model="smol", messages=MESSAGES, params=prompt),
        CallSpec(model="smol-hot", messages=MESSAGES, params=prompt, overrides={"temperature": 0}),
    ]
    for spec in specs:
        if streamed:
            async for _ in gateway.stream(spec):
                pass
        else:
            await gateway.call(spec)
    await gateway.aclose()
    sent = [dict(r.params) for r in fake.requests]
    assert sent == [
        {"temperature": 1.2, "max_tokens": 5, "seed": 3},
        {"temperature": 0.9, "max_tokens": 5, "seed": 3},
        {"temperature": 0, "max_tokens": 5, "seed": 3},
    ]
    # Three different requests: none is served from another's cache entry.
    requests = _rows(tmp_path, "SELECT request FROM completion ORDER BY id")
    recorded = [json.loads(r[0])["params"] for r in requests]
    assert recorded == sent
    spans = [
        json.loads(r[0])
        for r in _rows(tmp_path, "SELECT attributes FROM span WHERE kind = 'llm' ORDER BY id")
    ]
    assert [s["gen_ai.request.temperature"] for s in spans] == [1.2, 0.9, 0]


async def test_a_fallback_alias_runs_with_its_own_params(tmp_path: Path) -> None:
    primary = FakeProvider(script=[ProviderError(ErrorKind.BAD_REQUEST, "down")])
    backup = FakeProvider(default="from backup")
    config = WorkspaceConfig(
        models={
            "main": ModelAlias(model="fake/a", params={"temperature": 0.2}, on_error="cold"),
            "cold": ModelAlias(model="fake/b", params={"temperature": 0.0, "max_tokens": 7}),
        }
    )
    db = tmp_path / "w.db"
    migrate(db)

    def factory(target: Target) -> FakeProvider:
        return primary if target.model == "fake/a" else backup

    gateway = Gateway(config, tmp_path, create_db_engine(db), provider_factory=factory)
    result = await gateway.call(CallSpec(model="main", messages=MESSAGES, params={"seed": 1}))
    await gateway.aclose()
    assert result.completion.text == "from backup"
    assert dict(backup.requests[0].params) == {"temperature": 0.0, "max_tokens": 7, "seed": 1}
    spans = [
        json.loads(r[0])
        for r in _rows(tmp_path, "SELECT attributes FROM span WHERE kind = 'llm' ORDER BY id")
    ]
    assert [s.get("gen_ai.request.temperature") for s in spans] == [0.2, 0.0]
    assert spans[1]["gen_ai.request.max_tokens"] == 7

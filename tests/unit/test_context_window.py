"""The context window: a prompt too long is refused before the call; one that leaves too
little room is sent with ``max_tokens`` lowered, and says so in a warning and the trace."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.core.providers.base import ErrorKind
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate
from tests.helpers import run_cli

WORDS = "word " * 400  # 2,000 bytes: past the 1,000-token window by bytes alone


def _gateway(tmp_path: Path) -> tuple[Gateway, FakeProvider]:
    db = tmp_path / "w.db"
    migrate(db)
    fake = FakeProvider(default="ok")
    config = WorkspaceConfig(models={"small": ModelAlias(model="fake/small", context_window=1000)})
    gateway = Gateway(config, tmp_path, create_db_engine(db), provider_factory=lambda t: fake)
    gateway.windows.count = lambda model, messages: len(messages[-1]["content"].split()) * 2
    return gateway, fake


def _spec(words: int, max_tokens: int | None = None) -> CallSpec:
    return CallSpec(
        model="small",
        messages=[{"role": "user", "content": "word " * words}],
        params={"max_tokens": max_tokens} if max_tokens else {},
        prompt_name="long",
    )


def _spans(db: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, attributes FROM span ORDER BY id").fetchall()
    return {kind: json.loads(text) for kind, text in rows}


async def test_a_prompt_longer_than_the_window_is_refused_before_the_call(tmp_path: Path) -> None:
    gateway, fake = _gateway(tmp_path)
    result = await gateway.call(_spec(600))  # 1,200 tokens
    await gateway.aclose()
    done = result.completion
    assert not done.ok and done.error_kind == ErrorKind.CONTEXT_WINDOW
    assert done.error == (
        "prompt 'long' is 1,200 tokens, over the 1,000-token context window of small"
    )
    assert fake.requests == []  # never sent
    assert _spans(tmp_path / "w.db")["context"]["promptdeck.context.prompt_tokens"] == 1200


async def test_max_tokens_is_lowered_to_what_fits_with_a_warning(tmp_path: Path) -> None:
    gateway, fake = _gateway(tmp_path)
    result = await gateway.call(_spec(400, max_tokens=500))  # 800 tokens + 500 > 1,000
    await gateway.aclose()
    assert result.completion.ok
    [request] = fake.requests
    assert request.params["max_tokens"] == 200
    [warning] = result.warnings
    assert warning == (
        "max_tokens lowered from 500 to 200: prompt 'long' takes 800 of the 1,000-token "
        "context window of small"
    )
    context = _spans(tmp_path / "w.db")["context"]
    assert context["promptdeck.context.warnings"] == [warning]
    assert context["promptdeck.context.max_tokens"] == 200


async def test_a_prompt_that_fits_is_sent_unchanged_and_not_counted(tmp_path: Path) -> None:
    gateway, fake = _gateway(tmp_path)
    counted: list[str] = []
    gateway.windows.count = lambda model, messages: counted.append(model) or 10
    result = await gateway.call(_spec(20, max_tokens=100))  # 100 bytes: surely fits
    await gateway.aclose()
    assert result.completion.ok and not result.warnings
    assert fake.requests[0].params["max_tokens"] == 100
    assert counted == []  # no tokenizer needed when the bytes fit


async def test_an_unknown_window_is_not_checked(tmp_path: Path) -> None:
    gateway, fake = _gateway(tmp_path)
    result = await gateway.call(
        CallSpec(model="fake/unknown-model", messages=[{"role": "user", "content": WORDS * 50}])
    )
    await gateway.aclose()
    assert result.completion.ok and len(fake.requests) == 1


@pytest.fixture
def fake_provider(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    from promptdeck.core.gateway import engine

    provider = FakeProvider(default="ok")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def _run_summarize(
    capsys: pytest.CaptureFixture[str], paths: WorkspacePaths, *args: str
) -> tuple[int, str, str]:
    """`promptdeck --headless run summarize ARGS` in the demo workspace."""
    return run_cli(capsys, "--headless", "--workspace", str(paths.root), "run", "summarize", *args)


def test_run_refuses_a_prompt_over_the_local_window_with_exit_2(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from promptdeck.core.gateway import context_stage

    monkeypatch.setattr(context_stage.TokenCounting, "count", lambda self, model, messages: 2300)
    code, _, err = _run_summarize(capsys, demo_paths, "--var", f"text={WORDS * 5}")
    assert code == ExitCode.USAGE
    assert err.splitlines()[0] == (
        "error: prompt 'summarize' is 2,300 tokens, over the 2,048-token context window "
        "of local/smollm2-135m"
    )
    assert fake_provider.requests == []


def test_run_with_an_unknown_model_is_a_usage_error_at_once(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake_provider: FakeProvider
) -> None:
    code, _, err = _run_summarize(capsys, demo_paths, "--var", "text=hello", "-m", "nosuchmodel")
    assert code == ExitCode.USAGE
    lines = err.splitlines()
    assert lines[0] == "error: unknown model 'nosuchmodel'"
    assert "provider/model" in lines[1] and "smol" in lines[1]  # the demo's alias
    assert fake_provider.requests == []
    for known in ("gpt-4o-mini", "openai/whatever", "smol"):  # litellm's, a provider's, an alias
        code, _, err = _run_summarize(capsys, demo_paths, "--var", "text=hello", "-m", known)
        assert "unknown model" not in err

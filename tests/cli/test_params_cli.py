"""`run --param` and `compare --param`: a call's own parameters win, and are validated."""

from __future__ import annotations

import json
import sqlite3

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.compare_fakes import install_fakes
from tests.helpers import run_cli as run

TEXT = "text=The board approved a plan to move the database to the cloud."
ALIASES = """
[models.smol-hot]
model = "fake/smol"
params = { temperature = 1.2 }

[models.smol-cold]
model = "fake/smol"
params = { temperature = 0.0 }
"""


@pytest.fixture
def hot(demo_paths: WorkspacePaths) -> list[str]:
    config = demo_paths.root / "promptdeck.toml"
    config.write_text(config.read_text() + ALIASES)
    return ["--headless", "--workspace", str(demo_paths.root)]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default="- a summary")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def test_run_uses_the_alias_params_then_param_overrides_them(
    capsys: pytest.CaptureFixture[str], hot: list[str], fake: FakeProvider
) -> None:
    # summarize asks temperature 0.2 and max_tokens 300.
    code, _, err = run(capsys, *hot, "run", "summarize", "-m", "smol-hot", "-v", TEXT)
    assert code == 0 and "in [models.smol-hot])" in err  # no price known: the budget says so
    assert dict(fake.requests[-1].params) == {"temperature": 1.2, "max_tokens": 300}
    code, out, _ = run(
        capsys,
        *hot,
        "run",
        "summarize",
        "-m",
        "smol-hot",
        "-v",
        TEXT,
        "--param",
        "temperature=0.7",
        "-p",
        'stop=["\\n\\n"]',
        "--json",
    )
    assert code == 0 and json.loads(out)["cache"] == "miss"
    sent = dict(fake.requests[-1].params)
    assert sent == {"temperature": 0.7, "max_tokens": 300, "stop": ["\n\n"]}
    trace = json.loads(out)["trace_id"]
    with sqlite3.connect(hot[-1] + "/.promptdeck/workspace.db") as conn:
        row = conn.execute(
            "SELECT c.request FROM completion c JOIN trace t ON t.completion_id = c.id "
            "WHERE t.uid = ?",
            (trace,),
        ).fetchone()
    assert json.loads(row[0])["params"] == sent


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("temprature=1", "unknown parameter 'temprature'"),
        ("max_tokens=lots", "max_tokens must be an integer"),
        ("temperature", "is not KEY=VALUE"),
    ],
)
def test_a_bad_param_is_a_one_line_usage_error(
    capsys: pytest.CaptureFixture[str], hot: list[str], fake: FakeProvider, pair: str, message: str
) -> None:
    code, out, err = run(capsys, *hot, "run", "summarize", "-v", TEXT, "--param", pair)
    assert code == ExitCode.USAGE and out == "" and fake.requests == []
    assert message in err.splitlines()[0] and "Traceback" not in err


def test_compare_contrasts_two_temperatures_of_one_model(
    capsys: pytest.CaptureFixture[str],
    hot: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = install_fakes(monkeypatch, {})
    args = ["compare", "summarize", "-v", TEXT, "-m", "smol-hot", "-m", "smol-cold"]
    code, out, _ = run(capsys, *hot, *args, "--format", "json")
    assert code == 0
    assert sorted(r.params["temperature"] for r in fake.requests) == [0.0, 1.2]
    code, out, _ = run(capsys, *hot, *args, "--param", "max_tokens=9", "--format", "json")
    assert code == 0 and [c["cache"] for c in json.loads(out)["columns"]] == ["miss", "miss"]
    assert [r.params["max_tokens"] for r in fake.requests[2:]] == [9, 9]
    assert sorted(r.params["temperature"] for r in fake.requests[2:]) == [0.0, 1.2]

"""`promptdeck compare` through the real entry point, with a fake provider and embedder."""

from __future__ import annotations

import json

import pytest
import yaml

from promptdeck.core.compare.columns import word_diff
from promptdeck.core.evals.suites import load_suite
from promptdeck.core.providers.base import ChatRequest, ErrorKind, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.compare_fakes import install_fakes
from tests.helpers import run_cli as run

ANSWERS = {
    "fake/alpha": "- The board moves the database to the cloud.",
    "fake/beta": "- The board moves its servers to a cloud service.",
    "fake/gamma": "A completely different answer.",
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, ANSWERS)


def _ws(demo_paths: WorkspacePaths) -> list[str]:
    return ["--headless", "--workspace", str(demo_paths.root)]


TEXT = "text=The board approved a plan to move the database to the cloud."


def test_compare_text_prints_columns_side_by_side(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    args = ["compare", "summarize", "--var", TEXT, "-m", "fake/alpha", "-m", "fake/beta"]
    code, out, err = run(capsys, *_ws(demo_paths), *args)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "summarize@1 · fake/alpha" in lines[0] and "summarize@1 · fake/beta" in lines[0]
    assert lines[0].index("fake/beta") > 45  # the second column sits to the right
    assert all(len(line) <= 100 for line in lines)
    assert "cloud" in out and "tok/s" in out and "cache miss" in out and "stop" in out
    assert "similarity" in out and "1.00" in out
    assert {r.model for r in fake.requests} == {"fake/alpha", "fake/beta"}
    assert all("The board approved" in r.messages[-1]["content"] for r in fake.requests)


def test_compare_json_has_every_answer_and_metric(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    args = ["compare", "summarize", "-v", TEXT, "-m", "fake/alpha", "-m", "fake/beta"]
    code, out, _ = run(capsys, *_ws(demo_paths), *args, "-m", "fake/gamma", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    columns = doc["columns"]
    assert [c["model"] for c in columns] == ["fake/alpha", "fake/beta", "fake/gamma"]
    assert [c["text"] for c in columns] == list(ANSWERS.values())
    first = columns[0]
    for key in ("ttft_ms", "tokens_per_s", "latency_ms", "total_tokens", "cost_usd", "cache"):
        assert key in first
    assert first["finish_reason"] == "stop" and first["cache"] == "miss"
    assert first["cost_usd"] > 0 and first["ttft_ms"] is not None
    sim = doc["similarity"]
    assert len(sim) == 3 and sim[0][0] == pytest.approx(1.0, abs=1e-5)
    assert sim[0][1] > sim[0][2]  # alpha is closer to beta than to gamma
    ops = {op for op, _ in doc["diff"]["pieces"]}
    assert ops == {"=", "-", "+"}


def test_compare_versions_by_models_grid_in_markdown(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    args = ["compare", "summarize@1", "summarize@latest", "-v", TEXT]
    code, out, _ = run(
        capsys,
        *_ws(demo_paths),
        *args,
        "-m",
        "fake/alpha",
        "-m",
        "fake/beta",
        "--format",
        "markdown",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].count("summarize@1") == 4 and lines[1] == "|---|---|---|---|---|"
    assert lines[2].startswith("| answer | - The board moves the database")
    assert any(line.startswith("| cost | $") for line in lines)
    assert "| similarity | 1 | 2 | 3 | 4 |" in out


def test_compare_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    code, _, err = run(capsys, *_ws(demo_paths), "compare", "summarize", "-v", TEXT, "-m", "gpt")
    assert code == ExitCode.USAGE and "unknown model 'gpt'" in err
    code, _, err = run(capsys, *_ws(demo_paths), "compare", "summarize", "-m", "fake/alpha")
    assert code == ExitCode.USAGE and "text" in err
    code, _, err = run(capsys, *_ws(demo_paths), "compare", "nope", "-m", "fake/alpha")
    assert code == ExitCode.USAGE
    assert fake.requests == []


def test_compare_exits_3_when_every_model_fails(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    def refuse(request: ChatRequest) -> str:
        raise ProviderError(ErrorKind.AUTH, "bad key")

    fake.default = refuse
    args = ["compare", "summarize", "-v", TEXT, "-m", "fake/alpha", "-m", "fake/beta"]
    code, out, err = run(capsys, *_ws(demo_paths), *args, "--save-case", "found")
    assert code == ExitCode.RUNTIME and "every model failed (bad key)" in err
    assert "error: bad key" in out
    assert not (demo_paths.suites / "found.suite.yaml").exists()


def test_save_case_creates_then_appends_preserving_the_file(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    text = "text=Line one.\nLine two."
    args = ["compare", "summarize", "-v", text, "-v", "bullets=2", "-m", "fake/alpha"]
    code, _, err = run(capsys, *_ws(demo_paths), *args, "--save-case", "found")
    assert code == 0 and "suites/found.suite.yaml" in err
    created = yaml.safe_load((demo_paths.suites / "found.suite.yaml").read_text())
    assert created["prompts"] == ["summarize"] and created["models"] == ["fake/alpha"]
    assert created["cases"] == [
        {
            "description": "saved from compare of summarize on fake/alpha",
            "vars": {"text": "Line one.\nLine two.", "bullets": "2"},
        }
    ]

    existing = demo_paths.suites / "summarize.suite.yaml"
    before = existing.read_text()
    count = len(yaml.safe_load(before)["cases"])
    code, _, _ = run(capsys, *_ws(demo_paths), *args, "--save-case", "summarize")
    assert code == 0
    after = existing.read_text()
    assert after.startswith(before.rstrip("\n"))  # appended as text, comments kept
    data = yaml.safe_load(after)
    assert len(data["cases"]) == count + 1
    assert data["cases"][-1]["vars"]["text"] == "Line one.\nLine two."
    assert "# Output starts with a bullet." in after
    loaded = load_suite(existing, demo_paths)
    assert loaded.cases[-1].description == "saved from compare of summarize on fake/alpha"
    assert loaded.cases[-1].expected is None
    assert len(load_suite(demo_paths.suites / "found.suite.yaml", demo_paths).cases) == 1


def test_word_diff_marks_changed_words() -> None:
    pieces = word_diff("the cat sat", "the dog sat down")
    assert pieces == [("=", "the "), ("-", "cat"), ("+", "dog"), ("=", " sat"), ("+", " down")]


def test_an_ensemble_is_usable_as_a_model_in_compare_and_run(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    toml = demo_paths.root / "promptdeck.toml"
    toml.write_text(
        toml.read_text()
        + '\n[ensembles.duo]\nmembers = ["fake/alpha", "fake/beta"]\nprefer = "fake/beta"\n'
        + "agreement_threshold = 0.3\n"
    )
    args = ["compare", "summarize", "-v", TEXT, "-m", "duo", "-m", "fake/gamma", "--format", "json"]
    code, out, _ = run(capsys, *_ws(demo_paths), *args)
    assert code == 0
    duo, gamma = json.loads(out)["columns"]
    assert duo["model"] == "duo" and duo["text"] == ANSWERS["fake/beta"]
    ens = duo["ensemble"]
    assert ens["strategy"] == "consensus" and not ens["requires_review"]
    assert [m["model"] for m in ens["members"]] == ["fake/alpha", "fake/beta"]
    assert duo["cost_usd"] == pytest.approx(sum(m["cost_usd"] for m in ens["members"]))
    assert len(ens["matrix"]) == 2 and gamma["text"] == ANSWERS["fake/gamma"]

    code, out, _ = run(capsys, *_ws(demo_paths), "run", "summarize", "-v", TEXT, "-m", "duo")
    assert code == 0 and out.startswith(ANSWERS["fake/beta"])


def test_a_grid_too_large_is_refused(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    models = [arg for i in range(13) for arg in ("-m", f"fake/m{i}")]
    code, _, err = run(capsys, *_ws(demo_paths), "compare", "summarize", "-v", TEXT, *models)
    assert code == ExitCode.USAGE and "13 columns (at most 12)" in err and not fake.requests


def _duo(demo_paths: WorkspacePaths) -> None:
    toml = demo_paths.root / "promptdeck.toml"
    toml.write_text(
        toml.read_text()
        + '\n[ensembles.duo]\nmembers = ["fake/alpha", "fake/beta"]\nprefer = "fake/beta"\n'
        + "agreement_threshold = 0.3\n"
    )


def test_run_json_of_an_ensemble_has_its_decision_and_members(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    _duo(demo_paths)
    args = ["run", "summarize", "-v", TEXT, "-m", "duo", "--json"]
    code, out, _ = run(capsys, *_ws(demo_paths), *args)
    assert code == 0
    data = json.loads(out)
    assert data["text"] == ANSWERS["fake/beta"]
    ens = data["ensemble"]
    assert (ens["name"], ens["strategy"], ens["requires_review"]) == ("duo", "consensus", False)
    assert ens["agreement"] is not None and ens["decision"] and ens["chosen"] == ["fake/beta"]
    assert [(m["model"], m["text"]) for m in ens["members"]] == [
        ("fake/alpha", ANSWERS["fake/alpha"]),
        ("fake/beta", ANSWERS["fake/beta"]),
    ]
    assert all(m["trace_id"] for m in ens["members"])
    code, out, _ = run(capsys, *_ws(demo_paths), "run", "summarize", "-v", TEXT, "-m", "duo")
    assert code == 0 and out.splitlines()[-1].startswith("ensemble duo · consensus · agreement")


def test_compare_takes_json_like_every_data_command(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    base = ["compare", "summarize", "--var", TEXT, "-m", "fake/alpha", "-m", "fake/beta"]
    code, out, _ = run(capsys, *_ws(demo_paths), *base, "--json")
    assert code == 0
    data = json.loads(out)
    assert [c["model"] for c in data["columns"]] == ["fake/alpha", "fake/beta"]
    code, out, _ = run(capsys, *_ws(demo_paths), *base, "--format", "json")
    assert code == 0 and set(json.loads(out)) == set(data)
    code, _, err = run(capsys, *_ws(demo_paths), *base, "--json", "--format", "markdown")
    assert code == ExitCode.USAGE and "--json and --format markdown" in err

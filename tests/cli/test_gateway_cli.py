"""`run`, `traces` and `cache stats` through the real entry point, with a fake provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ErrorKind, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default=lambda r: "- a short summary")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def _ws(demo_paths: WorkspacePaths) -> list[str]:
    return ["--headless", "--workspace", str(demo_paths.root)]


def test_run_prints_the_answer_and_a_summary_line(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    code, out, err = run(capsys, *_ws(demo_paths), "run", "summarize", "--var", "text=Hello world.")
    assert (code, err) == (0, "")
    answer, summary = out.rstrip("\n").split("\n")
    assert answer == "- a short summary"
    assert summary.startswith("model local/smollm2-135m · ")
    assert "cache miss" in summary and "$0.000000" in summary
    trace_id = summary.rsplit("trace ", 1)[1]
    assert "Hello world." in fake.requests[0].messages[-1]["content"]
    assert fake.requests[0].params["temperature"] == 0.2

    code, out, _ = run(capsys, *_ws(demo_paths), "run", "summarize@1", "-v", "text=Hello world.")
    assert code == 0 and "cache exact" in out and len(fake.requests) == 1

    code, out, _ = run(capsys, *_ws(demo_paths), "traces", "list", "--json")
    listed = json.loads(out)
    assert [t["id"] for t in listed][-1] == trace_id and listed[0]["prompt"] == "summarize"

    code, out, _ = run(capsys, *_ws(demo_paths), "traces", "show", trace_id[:8])
    assert code == 0 and "render [render] ok" in out and "chat local/smollm2-135m" in out
    assert "gen_ai.usage.output_tokens" in out

    target = demo_paths.root / "otlp.json"
    code, _, err = run(capsys, *_ws(demo_paths), "traces", "export", "--output", str(target))
    assert code == 0 and "Exported 2 traces" in err
    doc = json.loads(target.read_text())
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    llm = next(s for s in spans if s["name"].startswith("chat "))
    keys = {a["key"] for a in llm["attributes"]}
    assert {"gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.operation.name"} <= keys
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)

    code, out, _ = run(capsys, *_ws(demo_paths), "cache", "stats", "--json")
    stats = json.loads(out)
    exact = next(g for g in stats["groups"] if g["cache"] == "exact")
    assert (exact["hits"], exact["misses"], exact["hit_rate"]) == (1, 1, 0.5)
    assert stats["entries"] == {"exact": 1}
    code, out, _ = run(capsys, *_ws(demo_paths), "cache", "stats")
    assert code == 0 and "HIT RATE" in out and "50%" in out


def test_run_json_and_stream(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    code, out, _ = run(
        capsys, *_ws(demo_paths), "run", "summarize", "-v", "text=x", "--json", "--cache", "off"
    )
    data = json.loads(out)
    assert code == 0 and data["text"] == "- a short summary" and data["cache"] == "off"
    assert data["usage"]["completion_tokens"] == 4 and data["error"] is None
    code, out, _ = run(capsys, *_ws(demo_paths), "run", "summarize", "-v", "text=x", "--stream")
    assert code == 0 and out.startswith("- a short summary\nmodel ")


def test_run_errors_are_one_line_with_a_hint(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    code, out, err = run(capsys, *_ws(demo_paths), "run", "summarize")
    assert code == ExitCode.USAGE and "text" in err and "Traceback" not in err
    code, _, err = run(capsys, *_ws(demo_paths), "run", "summarize", "--var", "novalue")
    assert code == ExitCode.USAGE and "is not NAME=VALUE" in err
    code, _, err = run(capsys, *_ws(demo_paths), "run", "nope", "-v", "a=b")
    assert code == ExitCode.USAGE and "no prompt named 'nope'" in err
    fake.extend([ProviderError(ErrorKind.AUTH, "no API key for openai/x: set OPENAI_API_KEY")])
    code, out, err = run(capsys, *_ws(demo_paths), "run", "summarize", "-v", "text=y")
    assert code == ExitCode.RUNTIME and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "error: no API key for openai/x: set OPENAI_API_KEY"
    assert lines[1].startswith("hint: set the key's environment variable")


def test_a_dead_server_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    toml = demo_paths.config
    toml.write_text(
        toml.read_text().replace("max_retries = 3", "max_retries = 0")
        + '\n[models.dead]\nmodel = "openai/x"\napi_base = "http://127.0.0.1:9/v1"\n'
    )
    code, out, err = run(
        capsys, *_ws(demo_paths), "run", "summarize", "-v", "text=y", "--model", "dead"
    )
    assert code == ExitCode.RUNTIME and out == ""
    assert err.startswith("error: cannot reach http://127.0.0.1:9/v1")
    assert "hint: check the server is running" in err and "Traceback" not in err


def test_traces_list_when_empty(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    code, out, _ = run(capsys, *_ws(demo_paths), "traces", "list")
    assert code == 0 and "No traces yet" in out
    code, _, err = run(capsys, *_ws(demo_paths), "traces", "show", "abcdef")
    assert code == ExitCode.USAGE and "no trace 'abcdef'" in err


@pytest.mark.local_model
def test_run_on_the_real_local_model(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    code, out, err = run(
        capsys,
        *_ws(demo_paths),
        "run",
        "truthful-qa",
        "--json",
        *_truthful_vars(demo_paths),
    )
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    assert data["text"].strip() and data["answered_by"] == "local/smollm2-135m"
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0
    assert data["cost_usd"] == 0 and data["provider"] == "local"


def _truthful_vars(demo_paths: WorkspacePaths) -> list[str]:
    import yaml

    spec = yaml.safe_load((demo_paths.prompts / "truthful-qa.prompt.yaml").read_text())
    out: list[str] = []
    for name, var in (spec.get("variables") or {}).items():
        if var.get("required"):
            out += ["--var", f"{name}=What is the capital of France?"]
    return out

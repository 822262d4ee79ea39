"""The headless commands of collected traces: list by source, to-case, similar; duplicates."""

from __future__ import annotations

import json

import pytest

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli
from tests.unit.collect.spans import llm_span, store


@pytest.fixture
def collected(demo_paths: WorkspacePaths) -> list[str]:
    workspace = Workspace.open(demo_paths)
    try:
        store(
            workspace,
            [
                llm_span(1, "Where is my parcel? It is two weeks late.", "It ships tomorrow."),
                llm_span(
                    2, "My parcel is two weeks late, where is it?", "It ships tomorrow.", offset_s=1
                ),
                llm_span(
                    3, "Write a haiku about autumn leaves.", "Red leaves drift down.", offset_s=2
                ),
            ],
        )
    finally:
        workspace.close()
    return ["--headless", "--workspace", str(demo_paths.root)]


def test_list_by_source_and_similar(
    collected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, *collected, "traces", "list", "--source", "otlp", "--json")
    assert code == 0
    assert [t["source"] for t in json.loads(out)] == ["otlp"] * 3
    code, out, _ = run_cli(capsys, *collected, "traces", "list", "--source", "promptdeck")
    assert code == 0 and "No traces yet" in out
    code, out, _ = run_cli(
        capsys, *collected, "traces", "similar", f"{1:032x}", "-k", "2", "--json"
    )
    assert code == 0
    found = json.loads(out)
    assert [f["id"] for f in found] == [f"{2:032x}", f"{3:032x}"]
    assert found[0]["similarity"] > found[1]["similarity"]
    code, _, err = run_cli(capsys, *collected, "traces", "similar", "0000nope")
    assert code == 2 and "no trace" in err


def test_to_case_appends_to_a_suite(
    collected: list[str], demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, *collected, "traces", "to-case", f"{1:032x}", "--suite", "prod")
    assert code == 2 and "--prompt" in err
    code, out, _ = run_cli(
        capsys,
        *collected,
        "traces",
        "to-case",
        f"{1:032x}",
        "--suite",
        "prod",
        "--prompt",
        "classify-ticket",
    )
    assert code == 0 and "suites/prod.suite.yaml" in out
    text = (demo_paths.suites / "prod.suite.yaml").read_text()
    assert "expected: It ships tomorrow." in text and "- review" in text


def test_eval_and_lint_warn_about_near_duplicates(
    ws: list[str], demo_paths: WorkspacePaths, fake: object, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo_paths.suites / "held-out.suite.yaml").write_text(
        "prompts: [classify-ticket]\n"
        "cases:\n"
        "  - vars: {ticket: I was charged twice}\n"
        "    expected: billing\n"
    )
    # An eval's start-up never loads the embedder: before lint has embedded the
    # cases, it says they are not checked yet.
    _, _, err = run_cli(capsys, *ws, "eval", "mini")
    assert "near-duplicate check: no case embedded yet" in err
    assert "is a near-duplicate" not in err
    _, out, _ = run_cli(capsys, *ws, "prompts", "lint")
    assert (
        "held-out.suite.yaml:3: warning: case is a near-duplicate of suites/mini.suite.yaml:3"
        in out
    )
    _, _, err = run_cli(capsys, *ws, "eval", "mini")
    assert (
        "suites/mini.suite.yaml:3: case is a near-duplicate of suites/held-out.suite.yaml:3" in err
    )
    assert "I cannot sign in" not in err and "not embedded yet" not in err
    # A case added since lint ran is counted, not embedded.
    with (demo_paths.suites / "held-out.suite.yaml").open("a") as suite:
        suite.write("  - vars: {ticket: My parcel never arrived and nobody answers}\n")
    _, _, err = run_cli(capsys, *ws, "eval", "mini")
    assert "near-duplicate check: 1 case(s) not embedded yet" in err


def test_collect_refuses_to_listen_beyond_loopback_without_a_token(
    ws: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, *ws, "collect", "--host", "0.0.0.0")
    assert code == 2 and "--token" in err

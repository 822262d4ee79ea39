"""Appending a case to a suite file as text: comments and layout survive."""

from __future__ import annotations

import pytest
import yaml

from promptdeck.core.evals.suite_cases import append_case
from promptdeck.errors import ConfigError, UsageError
from promptdeck.paths import WorkspacePaths


def _suite(paths: WorkspacePaths, text: str) -> None:
    paths.suites.mkdir(parents=True, exist_ok=True)
    (paths.suites / "s.suite.yaml").write_text(text)


def _load(paths: WorkspacePaths) -> dict[str, object]:
    return yaml.safe_load((paths.suites / "s.suite.yaml").read_text())  # type: ignore[no-any-return]


def test_cases_in_the_middle_of_the_file_and_unindented_items(
    demo_paths: WorkspacePaths,
) -> None:
    _suite(
        demo_paths,
        "prompts: [summarize]\ncases:\n- vars: {text: a}  # first\n\n"
        "# trailing note\nthreshold: 0.5\n",
    )
    append_case(demo_paths, "s", {"text": "b\nc"}, description="new", prompts=["summarize"])
    text = (demo_paths.suites / "s.suite.yaml").read_text()
    data = _load(demo_paths)
    assert data["cases"] == [
        {"vars": {"text": "a"}},
        {"description": "new", "vars": {"text": "b\nc"}},
    ]
    assert data["threshold"] == 0.5 and "# first" in text and "# trailing note" in text
    assert "text: |-" in text or "text: |" in text  # multi-line values as block scalars


def test_an_empty_flow_list_becomes_a_block_list(demo_paths: WorkspacePaths) -> None:
    _suite(demo_paths, "prompts: [summarize]\ncases: []\n")
    append_case(demo_paths, "s", {"text": "x"}, description="d", prompts=["summarize"])
    assert _load(demo_paths)["cases"] == [{"description": "d", "vars": {"text": "x"}}]


def test_refusals(demo_paths: WorkspacePaths) -> None:
    with pytest.raises(UsageError):
        append_case(demo_paths, "../escape", {}, description="d", prompts=["p"])
    _suite(demo_paths, "prompts: [summarize]\n")
    with pytest.raises(ConfigError, match="no top-level `cases:`"):
        append_case(demo_paths, "s", {}, description="d", prompts=["p"])
    _suite(demo_paths, "prompts: [summarize\ncases:\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        append_case(demo_paths, "s", {}, description="d", prompts=["p"])
    assert (demo_paths.suites / "s.suite.yaml").read_text() == "prompts: [summarize\ncases:\n"

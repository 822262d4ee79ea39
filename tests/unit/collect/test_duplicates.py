"""Near-duplicate cases: within a suite, across suites, named by file and line."""

from __future__ import annotations

from pathlib import Path

from promptdeck.config import WorkspaceConfig
from promptdeck.core.evals.suites import load_suite
from promptdeck.core.prompts.lint import lint_workspace
from promptdeck.core.similar.duplicates import near_duplicates
from promptdeck.core.similar.vectors import CachedEmbed
from promptdeck.paths import WorkspacePaths
from tests.unit.collect.test_similar import FakeEmbedder

TUNING = """\
prompts: [classify-ticket]
defaults:
  vars: {language: en}
cases:
  - vars: {ticket: I was charged twice for my order}
  - vars: {ticket: the app crashes when I open settings}
  - vars: {ticket: I was charged twice for my order}
    assert: [{type: contains, value: billing}]
  - vars: {ticket: my parcel never arrived}
"""
TEST = """\
prompts: [classify-ticket]
cases:
  - vars: {ticket: how do I change my email address}
  - vars: {ticket: i was charged twice for my order}
"""


def _suites(demo_paths: WorkspacePaths) -> list[Path]:
    tuning = demo_paths.suites / "tuning.suite.yaml"
    test = demo_paths.suites / "test.suite.yaml"
    tuning.write_text(TUNING)
    test.write_text(TEST)
    return [tuning, test]


def test_duplicates_across_suites_with_files_and_lines(demo_paths: WorkspacePaths) -> None:
    suites = [load_suite(p, demo_paths) for p in _suites(demo_paths)]
    pairs = near_duplicates(suites, FakeEmbedder(), 0.9)
    found = {(p.first, p.second) for p in pairs}
    # Same suite, same variables: one input checked two ways, on purpose; not reported.
    assert ("suites/tuning.suite.yaml:5", "suites/tuning.suite.yaml:7") not in found
    assert found == {
        ("suites/tuning.suite.yaml:5", "suites/test.suite.yaml:4"),
        ("suites/tuning.suite.yaml:7", "suites/test.suite.yaml:4"),
    }
    assert near_duplicates(suites, FakeEmbedder(), 0.9, only="nope") == []


def test_lint_warns_and_the_threshold_is_configurable(demo_paths: WorkspacePaths) -> None:
    _suites(demo_paths)
    for path in demo_paths.suites.glob("*.suite.yaml"):
        if path.name not in ("tuning.suite.yaml", "test.suite.yaml"):
            path.unlink()
    results = lint_workspace(demo_paths, WorkspaceConfig(), embed=FakeEmbedder())
    warnings = [f for f in results["suites"] if f.rule == "near-duplicate"]
    assert len(warnings) == 2
    named = {(f.location, f.message.split(" (")[0].rsplit(" ", 1)[-1]) for f in warnings}
    assert named == {
        ("suites/test.suite.yaml:4", "suites/tuning.suite.yaml:5"),
        ("suites/test.suite.yaml:4", "suites/tuning.suite.yaml:7"),
    }
    off = WorkspaceConfig.model_validate({"evals": {"duplicate_threshold": False}})
    assert "suites" not in lint_workspace(demo_paths, off, embed=FakeEmbedder())


def test_vectors_are_remembered_on_disk(tmp_path: Path) -> None:
    first = FakeEmbedder()
    store = tmp_path / "v.npz"
    texts = ["alpha beta", "gamma delta"]
    CachedEmbed(first, "fake-1", store)(texts)
    again = FakeEmbedder()
    vectors = CachedEmbed(again, "fake-1", store)([*texts, "epsilon"])
    assert vectors.shape == (3, 64)
    assert again.embedded == ["epsilon"]
    other = FakeEmbedder()
    CachedEmbed(other, "fake-2", store)(texts)  # another embedder's vectors are not reused
    assert other.embedded == texts

"""Case scores, semantic similarity and workspace python checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import (
    CallMeta,
    Score,
    ScoringOptions,
    assertion,
    case_score,
    evaluate,
    validate,
)
from promptdeck.errors import ConfigError

CASE = Case(key="k", index=0, source="suites/s.suite.yaml:3", vars={"q": "x"}, expected="Paris")
META = CallMeta(latency_ms=1.0)


def _s(passed: bool, weight: float = 1.0, value: float | None = None) -> Score:
    v = value if value is not None else float(passed)
    return Score("m", "t", v, passed, "r", weight)


@pytest.mark.parametrize(
    ("scores", "threshold", "expected"),
    [
        ([], 1.0, (1.0, True)),
        ([_s(True), _s(True, value=0.8)], 1.0, (1.0, True)),
        ([_s(True), _s(False)], 1.0, (0.5, False)),
        ([_s(True, 0.5), _s(False, 0.5), _s(True, 1.0)], 0.6, (0.75, True)),
        ([_s(False, 0.5), _s(True, 0.5), _s(False, 1.0)], 0.6, (0.25, False)),
        ([_s(True, 0.0), _s(False, 0.0)], 0.5, (0.5, True)),
        ([_s(True, 2.0), _s(False, 1.0)], 2 / 3, (2 / 3, True)),
    ],
)
def test_case_score(scores: list[Score], threshold: float, expected: tuple[float, bool]) -> None:
    score, passed = case_score(scores, threshold)
    assert score == pytest.approx(expected[0])
    assert passed is expected[1]


class FakeEmbedder:
    """Maps known texts to fixed unit vectors."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Any:
        self.calls.append(list(texts))
        rows = np.array([self.table[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_similar_with_an_injected_embedder() -> None:
    embedder = FakeEmbedder({"Paris": [1, 0], "It's Paris": [0.9, 0.1], "Lyon": [0, 1]})
    options = ScoringOptions(embedder=embedder)
    spec = AssertionSpec(type="similar")
    good = evaluate(spec, "It's Paris", CASE, META, options)
    bad = evaluate(spec, "Lyon", CASE, META, options)
    assert good.passed and good.value == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-6)
    assert not bad.passed and bad.value == pytest.approx(0.0, abs=1e-6)
    assert embedder.calls[0] == ["It's Paris", "Paris"]
    best = evaluate(
        AssertionSpec(type="similar", value=["Lyon", "Paris"], threshold=0.99),
        "Paris",
        CASE,
        META,
        options,
    )
    assert best.passed and best.value == pytest.approx(1.0)


def test_similar_with_the_real_local_embedder() -> None:
    spec = AssertionSpec(type="similar", value="The capital of France is Paris.")
    close = evaluate(spec, "Paris is France's capital city.", CASE, META)
    far = evaluate(spec, "Bananas are rich in potassium.", CASE, META)
    assert close.passed, close.reason
    assert not far.passed, far.reason
    assert close.value > far.value


@pytest.fixture
def checks_root(tmp_path: Path) -> Path:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "grade.py").write_text(
        "def polite(output, case):\n"
        "    return 'please' in output.lower()\n"
        "def ratio(output, case):\n"
        "    return len(output) / 10\n"
        "def explained(output, case):\n"
        "    return (output == case.expected, f'compared with {case.expected}')\n"
        "def broken(output, case):\n"
        "    raise RuntimeError('boom')\n"
        "def wrong_type(output, case):\n"
        "    return 'yes'\n",
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    ("function", "output", "passed", "value"),
    [
        ("polite", "Please wait", True, 1.0),
        ("polite", "Wait", False, 0.0),
        ("ratio", "123456", True, 0.6),
        ("ratio", "1234", False, 0.4),
        ("explained", "Paris", True, 1.0),
        ("explained", "Rome", False, 0.0),
    ],
)
def test_python_assertion(
    checks_root: Path, function: str, output: str, passed: bool, value: float
) -> None:
    options = ScoringOptions(allow_python=True, workspace_root=checks_root)
    spec = AssertionSpec(type="python", value=f"checks/grade.py:{function}")
    validate(spec, CASE, options)
    score = evaluate(spec, output, CASE, META, options)
    assert score.passed is passed
    assert score.value == pytest.approx(value)
    if function == "explained":
        assert score.reason == "compared with Paris"


@pytest.mark.parametrize("function", ["broken", "wrong_type"])
def test_python_failures_are_error_values(checks_root: Path, function: str) -> None:
    options = ScoringOptions(allow_python=True, workspace_root=checks_root)
    score = evaluate(
        AssertionSpec(type="python", value=f"checks/grade.py:{function}"), "x", CASE, META, options
    )
    assert not score.passed and score.error is not None


def test_python_is_refused_unless_the_workspace_allows_it(checks_root: Path) -> None:
    spec = AssertionSpec(type="python", value="checks/grade.py:polite")
    options = ScoringOptions(allow_python=False, workspace_root=checks_root)
    with pytest.raises(ConfigError, match="does not allow"):
        validate(spec, CASE, options)
    with pytest.raises(ConfigError, match="does not allow"):
        evaluate(spec, "please", CASE, META, options)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("checks/missing.py:polite", "does not exist"),
        ("../outside.py:polite", "outside the workspace"),
        ("checks/grade.py:absent", "no function 'absent'"),
    ],
)
def test_python_validation_finds_the_function(checks_root: Path, value: str, message: str) -> None:
    options = ScoringOptions(allow_python=True, workspace_root=checks_root)
    with pytest.raises(ConfigError, match=message):
        validate(AssertionSpec(type="python", value=value), CASE, options)


def test_adding_a_type_is_one_function() -> None:
    from promptdeck.core.scorers.base import REGISTRY, AssertionContext, Outcome

    @assertion("test-shouting", value="none")
    def shouting(output: str, ctx: AssertionContext) -> Outcome:
        """The output is in capitals."""
        return Outcome.check(output.isupper(), "capitals" if output.isupper() else "not capitals")

    try:
        spec = AssertionSpec(type="not-test-shouting")
        validate(spec)
        assert evaluate(spec, "quiet", CASE, META).passed
        assert REGISTRY["test-shouting"].summary == "The output is in capitals."
        with pytest.raises(ValueError, match="twice"):
            assertion("test-shouting")(shouting)
    finally:
        del REGISTRY["test-shouting"]

"""Every assertion in the bundled demo suites validates against the registry."""

from __future__ import annotations

import pytest

from promptdeck.core.evals.suites import load_suite, suite_files
from promptdeck.core.scorers import check_cases, requires_judge
from promptdeck.paths import WorkspacePaths


def test_the_demo_suites_validate(demo_paths: WorkspacePaths) -> None:
    files = suite_files(demo_paths)
    assert len(files) >= 6
    seen: set[str] = set()
    for path in files:
        suite = load_suite(path, demo_paths)
        assert suite.cases
        errors = check_cases(suite.cases)
        assert errors == [], [str(e) for e in errors]
        seen |= {spec.type for case in suite.cases for spec in case.asserts}
    # The demo suites exercise negation, expected fallbacks and a judge.
    assert {"not-icontains", "equals", "similar", "rouge-l", "g-eval"} <= seen


@pytest.mark.parametrize("name", ["support", "truthfulqa", "summarize"])
def test_judged_demo_suites_name_a_judge(demo_paths: WorkspacePaths, name: str) -> None:
    suite = load_suite(demo_paths.suites / f"{name}.suite.yaml", demo_paths)
    assert any(requires_judge(s) for c in suite.cases for s in c.asserts)
    assert suite.file.judge

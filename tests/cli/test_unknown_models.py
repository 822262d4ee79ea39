"""A model name that names nothing is refused before any call, where it is written."""

from __future__ import annotations

import pytest

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import MINI_SUITE
from tests.helpers import run_cli as run


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_a_suite_model_that_is_no_alias_names_the_suite_and_line(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
) -> None:
    suite = "models:\n  - fake/alpha\n  - nosuchmodel\n" + MINI_SUITE
    (demo_paths.suites / "mini.suite.yaml").write_text(suite)
    code, _, err = run(capsys, *ws, "eval", "run", "mini")
    errors = _error_lines(err)
    assert code == ExitCode.USAGE, err
    assert len(errors) == 1 and "suites/mini.suite.yaml:3:" in errors[0], err
    assert "unknown model 'nosuchmodel'" in errors[0]
    assert fake.requests == []


def test_a_suite_judge_that_is_no_model_names_its_line(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
) -> None:
    suite = MINI_SUITE.replace(
        "assert: [{type: equals}]", "assert: [{type: llm-rubric, value: ok}]"
    )
    (demo_paths.suites / "mini.suite.yaml").write_text("judge: nosuchjudge\n" + suite)
    code, _, err = run(capsys, *ws, "eval", "run", "mini")
    errors = _error_lines(err)
    assert code == ExitCode.USAGE and len(errors) == 1, err
    assert "suites/mini.suite.yaml:1:" in errors[0] and "'nosuchjudge'" in errors[0]
    assert fake.requests == []


def test_compare_refuses_a_prompts_own_unknown_model_before_any_call(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
) -> None:
    path = demo_paths.prompts / "summarize.prompt.yaml"
    text = path.read_text()
    path.write_text(
        "model: nosuchmodel\n"
        + "\n".join(line for line in text.splitlines() if not line.startswith("model:"))
        + "\n"
    )
    code, _, err = run(capsys, *ws, "compare", "summarize", "-v", "text=hi", "--format", "json")
    assert code == ExitCode.USAGE, err
    assert len(_error_lines(err)) == 1 and "unknown model 'nosuchmodel'" in err
    assert fake.requests == []

"""`promptdeck eval`: every cell accounted for (forms of the command, identities, statuses)."""

from __future__ import annotations

import pytest

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run

SUITE = """\
prompts: [classify-ticket]
cases:
  - description: double charge
    vars: {ticket: I was charged twice}
    expected: billing
    assert: [{type: equals}]
  - description: login
    vars: {ticket: I cannot sign in}
    expected: account
    assert: [{type: equals}]
"""


@pytest.fixture
def ws(demo_paths: WorkspacePaths) -> list[str]:
    (demo_paths.suites / "mini.suite.yaml").write_text(SUITE)
    return ["--headless", "--workspace", str(demo_paths.root)]


@pytest.mark.parametrize("form", [["eval", "run", "mini"], ["eval", "mini"]])
def test_eval_run_suite_and_eval_suite_both_run_it(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider, form: list[str]
) -> None:
    code, _, err = run(capsys, *ws, *form)
    assert code == ExitCode.OK, err
    assert "mini: 2 cells, 2 to run" in err and "no suite named" not in err
    code, out, _ = run(capsys, *ws, "eval", "list", "--json")
    assert code == ExitCode.OK and '"suite": "mini"' in out


def test_eval_run_resume_is_the_documented_form_of_resume(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider
) -> None:
    run(capsys, *ws, "eval", "run", "mini")
    code, _, err = run(capsys, *ws, "eval", "run", "--resume", "nosuchrun")
    assert code == ExitCode.USAGE and "no run 'nosuchrun'" in err

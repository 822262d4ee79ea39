"""Human feedback on eval cells, and fine-tuning data exported from the ratings."""

from __future__ import annotations

import json

import pytest

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.cli.test_eval_cli import SUITE
from tests.helpers import run_cli as run

TWO_MODELS = SUITE.replace(
    "prompts: [classify-ticket]", "prompts: [classify-ticket]\nmodels: [smol, local/smollm2-135m]"
)


@pytest.fixture
def ran(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> tuple[list[str], str]:
    (demo_paths.suites / "mini.suite.yaml").write_text(SUITE)
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    _, _, err = run(capsys, *ws, "eval", "mini")
    return ws, err.strip().splitlines()[-1].split(":")[0]


def test_rate_then_export_chat_and_preference_data(
    capsys: pytest.CaptureFixture[str], ran: tuple[list[str], str]
) -> None:
    ws, run_id = ran
    code, out, _ = run(capsys, *ws, "feedback", run_id, "--case", "0", "--thumbs", "up", "--json")
    assert code == 0 and json.loads(out)["feedback"] == 1
    code, _, _ = run(
        capsys,
        *ws,
        "feedback",
        run_id,
        "--case",
        "1",
        "--rating",
        "1",
        "--corrected",
        "account (sign-in)",
        "--comment",
        "say why",
    )
    assert code == 0
    code, out, err = run(capsys, *ws, "export-dataset", "--rated", "--format", "chat-jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and "2 examples written" in err
    assert lines[0]["messages"][-1] == {"role": "assistant", "content": "billing"}
    assert lines[1]["messages"][-1] == {"role": "assistant", "content": "account (sign-in)"}
    assert lines[0]["messages"][0]["role"] == "system"
    code, out, _ = run(capsys, *ws, "export-dataset", "--rated", "--format", "dpo-jsonl")
    pairs = [json.loads(line) for line in out.splitlines()]
    assert len(pairs) == 1
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == ("account (sign-in)", "account")
    assert pairs[0]["prompt"][-1]["content"].endswith("I cannot sign in")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--case", "9", "--thumbs", "up"), "has no cell for case 9"),
        (("--case", "0"), "nothing to record"),
    ],
)
def test_feedback_mistakes(
    capsys: pytest.CaptureFixture[str],
    ran: tuple[list[str], str],
    args: tuple[str, ...],
    message: str,
) -> None:
    ws, run_id = ran
    code, _, err = run(capsys, *ws, "feedback", run_id, *args)
    assert code == ExitCode.USAGE and message in err


def test_ambiguous_cell_asks_for_the_model(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    fake,  # type: ignore[no-untyped-def]
) -> None:
    (demo_paths.suites / "mini.suite.yaml").write_text(TWO_MODELS)
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    _, _, err = run(capsys, *ws, "eval", "mini")
    run_id = err.strip().splitlines()[-1].split(":")[0]
    code, _, err = run(capsys, *ws, "feedback", run_id, "--case", "0", "--thumbs", "up")
    assert code == ExitCode.USAGE and "add --model" in err
    code, _, _ = run(
        capsys, *ws, "feedback", run_id, "--case", "0", "--model", "smol", "--thumbs", "up"
    )
    assert code == 0

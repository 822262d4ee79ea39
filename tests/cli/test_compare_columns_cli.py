"""`promptdeck compare --col-param N:KEY=VALUE --col-system N:TEXT`: one column's own
parameters and system prompt, headless and on the way to the workbench."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from promptdeck.core.compare.overrides import ColumnOverride, parse_column_options
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ExitCode, UsageError
from promptdeck.paths import WorkspacePaths
from promptdeck.store.tables import CompletionRow
from tests.compare_fakes import install_fakes
from tests.helpers import run_cli as run

TEXT = "text=The board approved a plan to move the database to the cloud."


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, {})


def _compare(demo_paths: WorkspacePaths, *args: str) -> list[str]:
    return [
        "--headless", "-w", str(demo_paths.root), "compare", "summarize", "-v", TEXT,
        "-m", "fake/a", "-m", "fake/a", *args,
    ]  # fmt: skip


def test_one_model_at_two_temperatures_side_by_side(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    args = ["--col-param", "2:temperature=1.5", "--col-param", "2:seed=7"]
    args += ["--col-system", "2:Answer in French.", "-p", "max_tokens=50", "--json"]
    code, out, err = run(capsys, *_compare(demo_paths, *args))
    assert (code, err) == (0, "")
    columns = json.loads(out)["columns"]
    assert "override" not in columns[0]
    assert columns[1]["override"] == {"temperature": 1.5, "seed": 7, "system": "Answer in French."}
    first, second = sorted(fake.requests, key=lambda r: "seed" in r.params)
    assert first.params["temperature"] == 0.2 and "seed" not in first.params  # the prompt's
    assert (second.params["temperature"], second.params["seed"]) == (1.5, 7)
    assert first.params["max_tokens"] == second.params["max_tokens"] == 50  # --param: both
    assert second.messages[0] == {"role": "system", "content": "Answer in French."}
    assert first.messages[0]["content"] != "Answer in French."
    workspace = Workspace.open(demo_paths)
    try:
        with workspace.session() as session:
            stored = [c.request.get("column_override") for c in session.exec(select(CompletionRow))]
    finally:
        workspace.close()
    assert sorted(stored, key=bool) == [None, columns[1]["override"]]


def test_the_text_header_names_the_column_override(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, *_compare(demo_paths, "--col-param", "1:top_p=0.5"))
    assert code == 0
    header = out.splitlines()[0]
    assert "summarize@1 · fake/a · top_p=0.5" in header
    assert header.count("top_p") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--col-param", "3:temperature=1"], "'3:temperature=1': there is no column 3"),
        (["--col-param", "0:temperature=1"], "there is no column 0"),
        (["--col-param", "temperature=1"], "does not start with a column number"),
        (["--col-param", "two:temperature=1"], "does not start with a column number"),
        (["--col-param", "2:temperature"], "'temperature' is not KEY=VALUE"),
        (["--col-param", "2:temperature=hot"], "'2:temperature=hot': temperature must be a"),
        (["--col-param", "2:colour=red"], "'2:colour=red': unknown parameter 'colour'"),
        (["--col-system", "1:  "], "'1:  ': the system prompt is empty"),
        (["--col-system", "5:Be brief."], "'5:Be brief.': there is no column 5"),
    ],
)
def test_a_bad_column_option_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
    args: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, *_compare(demo_paths, *args))
    assert code == ExitCode.USAGE and out == ""
    assert message in err.splitlines()[0] and len(err.splitlines()) <= 2
    assert "Traceback" not in err
    assert fake.requests == []


def test_columns_count_versions_times_models() -> None:
    # 2 versions × 3 models: column 6 exists, 7 does not; the last option for a key wins.
    found = parse_column_options(
        ["6:temperature=1", "6:temperature=0.5", "1:max_tokens=9"], ["6:Be brief."], 6
    )
    assert found == {
        0: ColumnOverride({"max_tokens": 9}),
        5: ColumnOverride({"temperature": 0.5}, "Be brief."),
    }
    with pytest.raises(UsageError, match=r"no column 7 \(this compare has columns 1 to 6\)"):
        parse_column_options(["7:seed=1"], [], 6)
    with pytest.raises(UsageError, match="column 1 only"):
        parse_column_options([], ["2:x"], 1)

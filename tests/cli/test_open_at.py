"""On a terminal, `compare …`, `eval SUITE`, `prompts show NAME` and `traces show ID` open
their screen at that item (the screens' side is in tests/tui/test_focus_nav.py)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from promptdeck.cli import context
from promptdeck.core.compare.overrides import ColumnOverride
from promptdeck.errors import ExitCode
from promptdeck.tui.targets import CompareTarget, ItemTarget
from tests.helpers import run_cli as run

opened: list[tuple[str, object]] = []


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal, and an open_tui that records where it was asked to open."""
    tty = SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr(context, "sys", SimpleNamespace(stdin=tty, stdout=tty))
    opened.clear()

    def record(options: object, screen: str, target: object | None = None) -> None:
        opened.append((screen, target))

    for name in ("compare", "eval", "prompts", "traces"):
        module = importlib.import_module(f"promptdeck.cli.commands.{name}")
        monkeypatch.setattr(module, "open_tui", record)


@pytest.fixture
def ws(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    run(capsys, "init", str(tmp_path / "w"))
    return str(tmp_path / "w")


def test_compare_opens_compare_filled_in(capsys: pytest.CaptureFixture[str], ws: str) -> None:
    code, _, err = run(
        capsys, "-w", ws, "compare", "summarize@1", "summarize@4", "-m", "smol",
        "--var", "text=Hello there", "-p", "temperature=0.7",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert opened == [
        (
            "compare",
            CompareTarget(
                ("summarize@1", "summarize@4"),
                ("smol",),
                {"text": "Hello there"},
                {"temperature": 0.7},
            ),
        )
    ]


def test_compare_opens_compare_with_each_columns_own_parameters(
    capsys: pytest.CaptureFixture[str], ws: str
) -> None:
    code, _, err = run(
        capsys, "-w", ws, "compare", "summarize", "-m", "smol", "-m", "smol",
        "--col-param", "2:temperature=1.2", "--col-system", "1:Be brief.",
    )  # fmt: skip
    assert (code, err) == (0, "")
    ((screen, target),) = opened
    assert screen == "compare" and isinstance(target, CompareTarget)
    assert target.column_overrides == {
        0: ColumnOverride({}, "Be brief."),
        1: ColumnOverride({"temperature": 1.2}),
    }
    opened.clear()
    code, _, err = run(capsys, "-w", ws, "compare", "summarize", "--col-param", "2:seed=1")
    assert code == ExitCode.USAGE and "there is no column 2" in err and opened == []


def test_a_bad_var_is_one_line_before_the_workbench_opens(
    capsys: pytest.CaptureFixture[str], ws: str
) -> None:
    code, _, err = run(capsys, "-w", ws, "compare", "summarize", "--var", "novalue")
    assert code == ExitCode.USAGE and err.count("\n") <= 2 and opened == []


@pytest.mark.parametrize(
    ("args", "screen", "target"),
    [
        (["eval", "mini"], "evals", ItemTarget("mini", run=True)),
        (["eval"], "evals", None),
        (["prompts", "show", "summarize@2"], "prompts", ItemTarget("summarize")),
        (["traces", "show", "abc123"], "traces", ItemTarget("abc123")),
    ],
)
def test_items_open_their_screen(
    capsys: pytest.CaptureFixture[str], ws: str, args: list[str], screen: str, target: object
) -> None:
    code, _, err = run(capsys, "-w", ws, *args)
    assert (code, err) == (0, "")
    assert opened == [(screen, target)]


def test_report_options_keep_eval_headless(capsys: pytest.CaptureFixture[str], ws: str) -> None:
    code, _, _ = run(capsys, "-w", ws, "eval", "nosuch", "--junit", f"{ws}/out.xml")
    assert opened == [] and code == ExitCode.USAGE

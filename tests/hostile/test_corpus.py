"""Every hostile file of the corpus, through every command that reads it.

The contract (issue 15, part 1): one ``error:`` line naming the file and line, exit
2, no traceback, whatever the file holds. In-process through the real entry point
(the model is a fake: nothing here may reach a call), and a few of the worst files
again as real processes under a 500 MB address-space limit and a 5 s timeout, which
is what catches a C parser's stack overflow or a memory blow-up.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from promptdeck.core.workspace.init import init_workspace
from tests.helpers import run_cli
from tests.hostile.contract import PLACEMENTS, check_contract, corpus, workspace_copy

pytestmark = pytest.mark.usefixtures("fake")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, made once for the module (each test works on a copy)."""
    return init_workspace(tmp_path_factory.mktemp("hostile") / "base").root


def _kind(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize("source", corpus(), ids=lambda p: p.name)
def test_every_command_refuses_it_in_one_line(
    source: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind = _kind(source)
    placement = PLACEMENTS[kind]
    root = workspace_copy(base, tmp_path / "ws")
    shown = placement.install(kind, source, root)
    for command in placement.commands:
        code, _, err = run_cli(capsys, "--headless", "--workspace", str(root), *command)
        check_contract(code, err, shown, what=f"{source.name}: {' '.join(command)}")


def test_one_bad_prompt_does_not_break_the_others(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lint reports the bad file and still lints every other prompt."""
    root = workspace_copy(base, tmp_path / "ws")
    source = next(p for p in corpus(("prompt",)) if "utf8" in p.name)
    PLACEMENTS["prompt"].install("prompt", source, root)
    code, out, err = run_cli(capsys, "--headless", "--workspace", str(root), "prompts", "lint")
    check_contract(code, err, "prompts/bad.prompt.yaml", what="lint")
    assert "7 checked" in out  # the six demo prompts and the bad one
    code, out, _ = run_cli(
        capsys, "--headless", "--workspace", str(root), "prompts", "show", "summarize"
    )
    assert code == 0 and "summarize" in out


def test_themes_that_do_not_load_are_notices(tmp_path: Path) -> None:
    """The TUI reads themes at start-up: each broken one is a problem, never an exception."""
    from promptdeck.tui.themes import load_themes

    folder = tmp_path / "themes"
    folder.mkdir()
    sources = corpus(("theme",))
    for source in sources:
        (folder / source.name).write_bytes(source.read_bytes())
    found = load_themes(tmp_path)
    assert len(found.problems) == len(sources)
    for problem in found.problems:
        assert "\n" not in problem and "themes/theme." in problem
        assert any(f"{s.name}:" in problem for s in sources), problem


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    limit = 500 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


WORST = [
    ("prompt.deep.tags-flow.yaml", ("prompts", "show", "bad")),
    ("prompt.bomb.params.yaml", ("run", "bad", "-v", "x=hi")),
    ("toml.deep.inline-tables.toml", ("prompts", "list")),
    ("suite.deep.vars.yaml", ("eval", "run", "bad")),
    ("dataset.bomb.rows.yaml", ("eval", "run", "bad")),
    ("dataset.deep.row.jsonl", ("prompts", "lint")),
    ("guard.deep.text.yaml", ("guard", "--suite", "bad")),
]


@pytest.mark.parametrize(("name", "command"), WORST, ids=[w[0] for w in WORST])
def test_the_worst_files_in_a_real_process(
    name: str, command: tuple[str, ...], base: Path, tmp_path: Path
) -> None:
    """No segfault, no memory blow-up: a real process, 500 MB of address space, 5 s."""
    source = next(p for p in corpus() if p.name == name)
    kind = _kind(source)
    root = workspace_copy(base, tmp_path / "ws")
    shown = PLACEMENTS[kind].install(kind, source, root)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "promptdeck", "--headless", "--workspace", str(root), *command],
        capture_output=True,
        text=True,
        timeout=5 + _STARTUP,
        preexec_fn=_limit_memory,
        env=env,
        check=False,
    )
    assert done.returncode >= 0, f"killed by signal {-done.returncode}"
    check_contract(done.returncode, done.stderr, shown, what=f"{name}: {' '.join(command)}")


_STARTUP = 10
"""Seconds allowed on top of the 5 s for the interpreter to start on a loaded machine."""

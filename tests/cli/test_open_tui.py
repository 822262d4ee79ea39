"""`promptdeck` without a command: the workbench opens lazily, errors stay one line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.app import App
from textual.pilot import Pilot

from promptdeck.cli import context
from promptdeck.errors import ExitCode
from promptdeck.tui.app import PromptdeckApp
from tests.helpers import run_cli as run
from tests.tui.helpers import fake_warm

SEEN: list[PromptdeckApp] = []


@pytest.fixture(autouse=True)
def _headless_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal for open_tui, and the app run headless until its list is loaded."""
    tty = SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr(context, "sys", SimpleNamespace(stdin=tty, stdout=tty))
    SEEN.clear()

    async def until_loaded(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, PromptdeckApp)
        for _ in range(400):
            table = app.screen.query("#prompt-table")
            # Rows show before the workspace opens (the stored list): wait for both.
            loaded = app.workspace_ready and table and table.first().row_count
            if app.workspace_state == "failed" or loaded:
                break
            await asyncio.sleep(0.02)
        app.exit()

    def run_headless(self: PromptdeckApp) -> None:
        SEEN.append(self)
        self._warm = fake_warm
        self.watch_files = False
        App.run(self, headless=True, size=(100, 30), auto_pilot=until_loaded)

    monkeypatch.setattr(PromptdeckApp, "run", run_headless)


def test_opens_the_workbench_and_closes_the_workspace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    code, _, err = run(capsys, "--workspace", str(tmp_path / "w"))
    assert (code, err) == (0, "")
    (app,) = SEEN
    assert app.workspace_ready and app.open_error is None


def test_not_a_workspace_fails_before_the_app_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--workspace", str(tmp_path))
    assert code == ExitCode.USAGE
    assert err.startswith("error: --workspace points to") and "Traceback" not in err
    assert SEEN == []


def test_a_broken_config_gives_the_same_one_line_error_as_a_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    config = tmp_path / "w" / "promptdeck.toml"
    config.write_text("themes = 3\n" + config.read_text())
    headless = run(capsys, "--workspace", str(tmp_path / "w"), "--headless", "prompts", "list")
    code, _, err = run(capsys, "--workspace", str(tmp_path / "w"))
    assert (code, err) == (headless[0], headless[2])
    assert code == ExitCode.USAGE and "themes: unknown setting" in err
    assert err.count("\n") <= 2 and "Traceback" not in err  # the error line and its hint
    assert len(SEEN) == 1 and not SEEN[0].workspace_ready

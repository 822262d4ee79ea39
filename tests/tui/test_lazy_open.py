"""The workbench paints first and opens the workspace in a worker after the first paint."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import DataTable, Static

from promptdeck.errors import ConfigError, ExitCode
from promptdeck.paths import WorkspacePaths
from promptdeck.tui.app import PromptdeckApp, WorkspaceState
from tests.conftest import DEMO_PROMPTS
from tests.tui.helpers import GatedOpener, fake_warm, settle, wait_until


def _app(paths: WorkspacePaths, opener: GatedOpener, **kwargs: object) -> PromptdeckApp:
    return PromptdeckApp(paths, warm=fake_warm, watch_files=False, opener=opener, **kwargs)  # type: ignore[arg-type]


def _rows(app: PromptdeckApp) -> int:
    return app.screen.query_one("#prompt-table", DataTable).row_count


async def test_the_shell_paints_before_the_workspace_opens(demo_paths: WorkspacePaths) -> None:
    opener = GatedOpener()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            # Painted, the list is loading and no screen action is offered yet.
            assert app.workspace_state == WorkspaceState.OPENING
            assert not app.workspace_ready
            assert app.screen.query_one("#prompt-table", DataTable).loading
            assert "Opening the workspace" in str(
                app.screen.query_one("#prompt-title", Static).render()
            )
            assert "model: …" in str(app.screen.query_one("#model-name", Static).render())
            await pilot.press("r")  # resync before the workspace is open: nothing happens
            opener.gate.set()
            await wait_until(pilot, lambda: _rows(app) == len(DEMO_PROMPTS))
            await settle(pilot)
            assert app.workspace_ready
            assert "local/smollm2-135m" in str(app.screen.query_one("#model-name", Static).render())
            assert app.engine_state == "ready"
    finally:
        opener.close()


async def test_a_section_asked_for_while_opening_opens_once_ready(
    demo_paths: WorkspacePaths,
) -> None:
    opener = GatedOpener()
    app = _app(demo_paths, opener, screen="evals")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.current_mode == "prompts"  # the shell shows until the workspace is open
            await pilot.press("4")  # the last key pressed wins
            assert app.current_mode == "prompts"
            opener.gate.set()
            await wait_until(pilot, lambda: app.current_mode == "traces")
            await settle(pilot)
    finally:
        opener.close()


async def test_a_broken_config_leaves_with_the_config_error(demo_paths: WorkspacePaths) -> None:
    demo_paths.config.write_text("default_model = \n")
    app = PromptdeckApp(demo_paths, warm=fake_warm, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.workspace_state == WorkspaceState.FAILED)
    assert isinstance(app.open_error, ConfigError)
    assert "promptdeck.toml:1: invalid TOML" in app.open_error.title
    assert app.return_code == ExitCode.USAGE


async def test_the_theme_and_keys_of_the_config_apply_from_the_first_paint(
    demo_paths: WorkspacePaths,
) -> None:
    text = demo_paths.config.read_text()
    text = text.replace('theme = "promptdeck-dark"', 'theme = "promptdeck-light"')
    demo_paths.config.write_text(text.replace("[keymap]\n", '[keymap]\n"screen.stats" = "s"\n'))
    opener = GatedOpener()
    app = _app(demo_paths, opener)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.theme == "promptdeck-light"
            opener.gate.set()
            await wait_until(pilot, lambda: app.workspace_ready)
            await settle(pilot)
            assert app.theme == "promptdeck-light"
            await pilot.press("s")
            assert app.current_mode == "stats"
            await settle(pilot)
    finally:
        opener.close()


def test_what_loads_before_the_first_paint_stays_light() -> None:
    """The app module and its first screen import no database, validation or template library."""
    code = (
        "import sys, promptdeck.tui.app; "
        "print(' '.join(m for m in ('sqlalchemy', 'sqlmodel', 'pydantic', 'yaml', 'jinja2', "
        "'pygments', 'litellm', 'promptdeck.config', 'promptdeck.store') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == ""

"""Theme files: bundled dark and light, user and workspace themes, broken files reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.themes import load_theme_file, load_themes
from tests.tui.helpers import make_app, settle


def test_bundled_themes_load() -> None:
    names = {t.name for t in load_themes(None).themes}
    assert {"promptdeck-dark", "promptdeck-light"} <= names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\n[colors]\nprimary = "#123456"\nbogus = 1\n',
            ":4: colors.bogus: unknown colour",
        ),
        (
            'name = "x"\n[colors]\nprimary = "blurple"\n',
            ":3: colors.primary: 'blurple' is not a colour",
        ),
        ('name = "x"\n[colors\n', ":2: invalid TOML"),
        ('[colors]\nprimary = "#123456"\n', ":1: a theme needs `name"),
    ],
)
def test_broken_theme_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_theme_file(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


async def test_workspace_theme_is_used_and_broken_one_reported(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMPTDECK_HOME", str(tmp_path / "home"))
    folder = workspace.paths.root / "themes"
    folder.mkdir()
    (folder / "sunset.toml").write_text(
        'name = "sunset"\ndark = true\n[colors]\nprimary = "#FF8800"\nbackground = "#201010"\n'
    )
    (folder / "broken.toml").write_text('name = "broken"\n[colors]\nprimary = "nope"\n')
    workspace.config = workspace.config.model_copy(
        update={"ui": workspace.config.ui.model_copy(update={"theme": "sunset"})}
    )
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "sunset"
        assert any("broken.toml:3" in str(n.message) for n in app._notifications)


async def test_f1_toggles_the_keys_list(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.query("#keys-table")
        await pilot.press("f1")
        await pilot.pause()
        assert not app.screen.query("#keys-table")


async def test_the_theme_picked_from_the_palette_is_remembered(workspace: Workspace) -> None:
    from promptdeck.tui.ui_state import UI_STATE_FILE

    toml = (workspace.paths.config).read_text()
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "promptdeck-dark"
        await pilot.press("ctrl+p", *"theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press(*"promptdeck-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == "promptdeck-light"
    assert (workspace.paths.state / UI_STATE_FILE).exists()
    assert workspace.paths.config.read_text() == toml  # promptdeck.toml is not rewritten
    again = make_app(workspace)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert again.theme == "promptdeck-light"
    # A later edit of ui.theme in promptdeck.toml wins over the older pick.
    workspace.config = workspace.config.model_copy(
        update={"ui": workspace.config.ui.model_copy(update={"theme": "textual-light"})}
    )
    edited = make_app(workspace)
    async with edited.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert edited.theme == "textual-light"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"theme": 3}', "x" * 70_000, ""])
def test_a_broken_ui_state_file_remembers_nothing(workspace: Workspace, text: str) -> None:
    from promptdeck.tui.ui_state import UI_STATE_FILE, UiState, read_ui_state, remembered_theme

    (workspace.paths.state / UI_STATE_FILE).write_text(text)
    assert read_ui_state(workspace.paths).theme is None
    assert remembered_theme(workspace.paths, None) is None
    assert read_ui_state(workspace.paths) in (UiState(), UiState(None, None))

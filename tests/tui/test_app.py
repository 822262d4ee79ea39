"""Pilot tests: the workbench opens on real prompts and is driven by keyboard alone."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.tui.screens.prompts import PromptsScreen
from promptdeck.tui.widgets.status_bar import StatusBar
from tests.conftest import DEMO_PROMPTS
from tests.tui.helpers import failing_warm, make_app, settle, wait_until


def _table(app: object) -> DataTable[object]:
    return app.screen.query_one("#prompt-table", DataTable)  # type: ignore[attr-defined]


def _row_names(app: object) -> list[str]:
    table = _table(app)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_opens_on_the_demo_prompts_from_the_database(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PromptsScreen)
        assert _row_names(app) == DEMO_PROMPTS
        assert app.sub_title == "demo"
        title = str(app.screen.query_one("#prompt-title", Static).render())
        assert "classify-ticket" in title and "v1" in title
        await pilot.press("down")
        title = str(app.screen.query_one("#prompt-title", Static).render())
        assert "customer-support" in title
    # What the screen showed came from the database: the sync really wrote versions.
    assert {s.name for s in workspace.prompt_summaries()} == set(DEMO_PROMPTS)


async def test_every_screen_is_reachable_by_its_key(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, mode, heading in [
            ("2", "compare", "Compare"),
            ("3", "evals", "Evals"),
            ("4", "traces", "Traces"),
            ("5", "guardrails", "Guardrails"),
            ("6", "stats", "Stats"),
        ]:
            await pilot.press("escape", key)  # Compare focuses a variable: leave it first
            assert app.current_mode == mode
            assert not isinstance(app.screen, PromptsScreen)
            assert heading.lower() in type(app.screen).__name__.lower()
        await pilot.press("1")
        assert isinstance(app.screen, PromptsScreen)


async def test_engine_state_is_shown_after_first_paint(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(StatusBar)
        assert bar.state == "ready"
        assert "fake model" in str(bar.query_one("#engine-state", Static).render())


async def test_a_model_that_cannot_load_is_reported(workspace: Workspace) -> None:
    app = make_app(workspace, warm=failing_warm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        state = str(app.screen.query_one("#engine-state", Static).render())
        assert "unavailable" in state and "llama-cpp-python" in state


async def test_resync_key_picks_up_a_new_prompt_file(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        (workspace.paths.prompts / "haiku.prompt.yaml").write_text(
            "name: haiku\ndescription: Write a haiku.\ntemplate: A haiku about {{ topic }}.\n"
        )
        await pilot.press("r")
        await settle(pilot)
        assert "haiku" in _row_names(app)


async def test_a_broken_file_is_notified_and_marked(workspace: Workspace) -> None:
    (workspace.paths.prompts / "broken.prompt.yaml").write_text("name: broken\n")
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("broken.prompt.yaml" in str(n.message) for n in app._notifications)
        table = _table(app)
        row = table.get_row_at(_row_names(app).index("broken"))
        assert str(row[5]) == "error"


async def test_editing_a_file_shows_version_two_without_a_key(workspace: Workspace) -> None:
    app = make_app(workspace, watch_files=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(_row_names(app)) == len(DEMO_PROMPTS))
        path = workspace.paths.prompts / "summarize.prompt.yaml"
        path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.5"))

        def shows_v2() -> bool:
            table = _table(app)
            names = _row_names(app)
            return (
                "summarize" in names and str(table.get_row_at(names.index("summarize"))[1]) == "v2"
            )

        await wait_until(pilot, shows_v2)


async def test_command_palette_navigates(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to Traces")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "traces"


async def test_unknown_theme_falls_back_with_a_notice(workspace: Workspace) -> None:
    workspace.config = workspace.config.model_copy(
        update={"ui": workspace.config.ui.model_copy(update={"theme": "neon"})}
    )
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "promptdeck-dark"
        assert any("neon" in str(n.message) for n in app._notifications)


async def test_keymap_from_config_remaps_a_screen_key(workspace: Workspace) -> None:
    workspace.config = workspace.config.model_copy(update={"keymap": {"screen.stats": "s"}})
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        assert app.current_mode == "stats"

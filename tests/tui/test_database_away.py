"""A shared database that cannot be reached is a notice in the workbench, not a crash."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from promptdeck.paths import WorkspacePaths
from promptdeck.tui.app import PromptdeckApp, WorkspaceState
from tests.cli.test_db_errors import closed_port
from tests.pg import PgServer
from tests.tui.helpers import fake_warm, wait_until


async def test_a_closed_port_is_a_notice_and_r_tries_again(
    demo_paths: WorkspacePaths, pg_server: PgServer
) -> None:
    port = closed_port()
    config = demo_paths.config.read_text(encoding="utf-8")
    url = f"postgresql://team:hunter2-secret@127.0.0.1:{port}/shared"
    demo_paths.config.write_text(f'database_url = "{url}"\n{config}', encoding="utf-8")
    app = PromptdeckApp(demo_paths, warm=fake_warm, watch_files=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.workspace_state == WorkspaceState.FAILED)
            await pilot.pause()
            assert app.is_running and app.open_error is None
            (notice,) = [n for n in app._notifications if n.severity == "error"]
            assert notice.title == (
                f"the workspace database postgresql://team:***@127.0.0.1:{port}/shared: "
                "cannot reach the server (Connection refused)"
            )
            assert "check the server is running" in notice.message
            assert "hunter2" not in notice.title + notice.message
            table = app.screen.query_one("#prompt-table", DataTable)
            assert not table.loading
            title = str(app.screen.query_one("#prompt-title", Static).render())
            assert "r tries again" in title
            # The server "comes back" (the URL now names the test's running server).
            good = pg_server.create_migrated_database()
            demo_paths.config.write_text(f'database_url = "{good}"\n{config}', encoding="utf-8")
            await pilot.press("r")
            await wait_until(pilot, lambda: app.workspace_ready)
            await wait_until(pilot, lambda: table.row_count == 6)
    finally:
        if app.workspace_ready:
            app.workspace.close()

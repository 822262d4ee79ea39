"""Compare as a playground, by keys only: per-column parameters, real variable editors,
and a new prompt from the workbench."""

from __future__ import annotations

import pytest
from sqlmodel import select

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import CompletionRow
from promptdeck.tui.screens.compare import CompareScreen
from promptdeck.tui.screens.params_dialog import ParamsDialog
from promptdeck.tui.widgets.compare_column import ColumnView
from tests.compare_fakes import install_fakes
from tests.tui.helpers import make_app, settle


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, {})


async def test_two_temperatures_of_one_model_side_by_side(
    workspace: Workspace, fake: FakeProvider
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await pilot.press(*"printer broken")  # the first empty variable has focus
        await pilot.press("shift+tab", "ctrl+u", *"fake/a, fake/a", "escape", "ctrl+r")
        await settle(pilot)
        assert [v.title for v in screen.query(ColumnView)] == [
            "classify-ticket@1 · fake/a",
            "classify-ticket@1 · fake/a",
        ]
        await pilot.press("right_square_bracket", "p")
        await settle(pilot)
        assert isinstance(app.screen, ParamsDialog)
        await pilot.press(*"abc", "ctrl+s")  # a temperature must be a number
        assert isinstance(app.screen, ParamsDialog)
        assert "temperature must be a number" in str(app.screen.query_one("#params-error").render())
        await pilot.press("ctrl+u", *"1.5", "tab", *"40", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert [v.title for v in screen.query(ColumnView)] == [
            "classify-ticket@1 · fake/a",
            "classify-ticket@1 · fake/a · temperature=1.5 · max_tokens=40",
        ]
        sent = [(r.params.get("temperature"), r.params.get("max_tokens")) for r in fake.requests]
        assert sent[-2:] in ([(0, 5), (1.5, 40)], [(1.5, 40), (0, 5)])
        with workspace.session() as session:
            stored = [c.request.get("column_override") for c in session.exec(select(CompletionRow))]
        assert {"temperature": 1.5, "max_tokens": 40} in stored
        # The prompt file is untouched.
        text = (workspace.paths.prompts / "classify-ticket.prompt.yaml").read_text()
        assert "temperature: 0" in text

"""Every footer fits: the spare keys (Prompts Resync/History/Diff, Compare Show all/Rate,
Traces Refresh) show when there is room and step aside at 80 columns, F1 staying put."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from tests.compare_fakes import install_fakes
from tests.tui.gateway_data import fill
from tests.tui.helpers import make_app, settle

SPARE = {
    "1": ["Resync", "History", "Diff"],
    "2": ["Show all", "Rate"],
    "4": ["Refresh"],
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, {})


def _shown(pilot: Pilot[None]) -> list[str]:
    footer = pilot.app.screen.query_one(Footer)
    return [k.description for k in footer.query(FooterKey) if k.display and k.description]


def _fits(pilot: Pilot[None]) -> bool:
    footer = pilot.app.screen.query_one(Footer)
    return footer.virtual_size.width <= footer.size.width


async def _resize(pilot: Pilot[None], width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await settle(pilot)
    await pilot.pause()


async def test_spare_keys_show_when_they_fit_and_leave_at_80_columns(
    workspace: Workspace, fake: FakeProvider
) -> None:
    fill(workspace)
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press(*"printer broken", "escape", "ctrl+r")  # columns to show all, rate
        await settle(pilot)
        for key, spare in SPARE.items():
            await pilot.press("escape", key)
            await settle(pilot)
            await pilot.pause()
            shown = _shown(pilot)
            assert all(name in shown for name in spare), (key, shown)
            assert "Help" in shown and _fits(pilot)
            await _resize(pilot, 80, 24)
            shown = _shown(pilot)
            assert not any(name in shown for name in spare), (key, shown)
            assert "Help" in shown and _fits(pilot), (key, shown)
            await _resize(pilot, 160, 48)
            assert all(name in _shown(pilot) for name in spare), key

"""The Evals screen tells an interrupted run and a case without assertions for what they are."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Static

from promptdeck.core.evals import leases
from promptdeck.core.evals.browse import cell_detail, run_grid
from promptdeck.core.evals.runner import EvalRunner, plan_suite
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import Run, RunCell, RunLease
from promptdeck.tui.screens.evals import EvalsScreen, ResultGrid
from tests.tui.helpers import make_app, settle, wait_until

SUITE = """\
prompts: [classify-ticket]
repeat: 2
cases:
  - description: checked
    vars: {ticket: I was charged twice}
    assert: [{type: equals, value: billing}]
  - description: unchecked
    vars: {ticket: I cannot sign in}
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default="billing")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has ended."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(gone.stdout)


async def interrupted_run(workspace: Workspace, dead_pid: int) -> str:
    """Run the suite, then make it look killed: one cell pending, its process gone."""
    workspace.sync()
    (workspace.paths.suites / "mini.suite.yaml").write_text(SUITE)
    gateway = Gateway.for_workspace(workspace)
    try:
        uid = (await EvalRunner(workspace, gateway).run(plan_suite(workspace, "mini"))).run_uid
    finally:
        await gateway.aclose()
    with workspace.session() as session:
        run = session.exec(select(Run)).one()
        cell = session.exec(select(RunCell).where(RunCell.case_index == 0)).all()[-1]
        cell.status = "pending"
        run.status = "running"
        session.add_all([cell, run])
        session.add(RunLease(run_id=run.id or 0, pid=dead_pid, host=leases._host()))
    return uid


def test_the_grid_and_the_detail_say_no_assertions_and_interrupted(
    workspace: Workspace, fake: FakeProvider, dead_pid: int
) -> None:
    uid = asyncio.run(interrupted_run(workspace, dead_pid))
    grid = run_grid(workspace, uid)
    assert grid.status == "interrupted (3 of 4 cells)"
    statuses = [next(iter(row.cells.values())).status for row in grid.rows]
    assert statuses == ["pass", "unchecked"]
    unchecked = next(iter(grid.rows[1].cells.values()))
    detail = cell_detail(workspace, unchecked.cell_ids[0])
    assert detail.status == "no assertions" and detail.description == "unchecked"


async def test_the_screen_lists_the_run_as_interrupted(
    workspace: Workspace, fake: FakeProvider, dead_pid: int
) -> None:
    uid = await interrupted_run(workspace, dead_pid)
    app = make_app(workspace)
    async with app.run_test(size=(150, 46)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EvalsScreen)
        runs = screen.query_one("#run-table", DataTable)
        await wait_until(pilot, lambda: runs.row_count == 1)
        assert [str(c) for c in runs.get_row_at(0)][::3] == ["◌ 1/1", "interrupted (3 of 4 cells)"]
        grid = screen.query_one("#evals-grid", ResultGrid)
        await wait_until(pilot, lambda: grid.row_count == 2)
        assert str(grid.get_row_at(1)[1]) == "– no assertions"
        status = str(screen.query_one("#evals-status", Static).render())
        assert f"run {uid}" in status and "interrupted (3 of 4 cells)" in status

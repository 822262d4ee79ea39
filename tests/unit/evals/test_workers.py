"""Eval workers: queued runs, cells split between workers, Ctrl+C, shared budgets and cache."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from promptdeck.core.evals.queue import next_queued_run
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.workers_help import (
    WorkerThread,
    cell_rows,
    lab_workspace,
    queue,
    scalar,
    threaded_stub,
)

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


def until(check: Callable[[], bool], seconds: float = 60) -> None:
    """Wait (generously) for ``check`` to hold."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_queued_run_waits_with_every_cell_pending(demo_paths: WorkspacePaths) -> None:
    with lab_workspace(demo_paths, "http://127.0.0.1:9/v1", 5) as workspace:
        check_queued(workspace)


def check_queued(workspace: Workspace) -> None:
    uid = queue(workspace)
    rows = cell_rows(workspace, uid)
    assert [r.status for r in rows] == ["pending"] * 5
    assert scalar(workspace, "SELECT status FROM run WHERE uid = :u", u=uid) == "queued"
    found = next_queued_run(workspace)
    assert found is not None and found.uid == uid
    assert next_queued_run(workspace, "nightly-*") is None  # --suite-filter
    assert next_queued_run(workspace, "ma*") is not None


def test_two_workers_split_a_run_and_call_no_cell_twice(demo_paths: WorkspacePaths) -> None:
    with threaded_stub(held=True) as stub, lab_workspace(demo_paths, stub.base, 40) as workspace:
        uid = queue(workspace)
        one = WorkerThread(workspace, concurrency=2, once=True).start()
        two = WorkerThread(workspace, concurrency=2, once=True).start()
        # Both hold claimed cells before any answer comes back.
        until(lambda: scalar(workspace, "SELECT count(DISTINCT claimed_by) FROM run_cell") == 2)
        stub.gate.set()
        one.join()
        two.join()
        tickets = stub.tickets()
        assert one.worker and two.worker
        assert one.worker.stats.cells > 0 and two.worker.stats.cells > 0
        assert one.worker.stats.cells + two.worker.stats.cells == 40
        assert len(tickets) == 40 and set(tickets.values()) == {1}
        rows = cell_rows(workspace, uid)
        assert all(r.status == "done" and r.output == "technical" for r in rows)
        assert scalar(workspace, "SELECT status FROM run WHERE uid = :u", u=uid) == "finished"
        assert scalar(workspace, "SELECT count(*) FROM run_lease WHERE ended_at IS NULL") == 0


def test_stop_finishes_the_cells_in_hand_and_hands_the_rest_back(
    demo_paths: WorkspacePaths,
) -> None:
    with threaded_stub(held=True) as stub, lab_workspace(demo_paths, stub.base, 60) as workspace:
        uid = queue(workspace)
        worker = WorkerThread(workspace, concurrency=3).start()
        until(lambda: stub.calls >= 3)  # three calls in flight
        worker.stop()  # Ctrl+C
        stub.gate.set()
        worker.join()
        called = stub.calls
        rows = cell_rows(workspace, uid)
        done = [r for r in rows if r.status == "done"]
        # Every call made was finished and written; nothing is held any more.
        assert len(done) == called and 3 <= called < 60
        assert scalar(workspace, "SELECT count(*) FROM run_lease WHERE ended_at IS NULL") == 0
        assert scalar(workspace, "SELECT status FROM run WHERE uid = :u", u=uid) == "queued"
        # Another worker takes the rest up; no cell is called twice.
        WorkerThread(workspace, concurrency=4, once=True).start().join()
        tickets = stub.tickets()
        assert len(tickets) == 60 and set(tickets.values()) == {1}
        assert scalar(workspace, "SELECT status FROM run WHERE uid = :u", u=uid) == "finished"


BUDGET = """
input_cost_per_token = 0.001
output_cost_per_token = 0.001

[budgets.cap]
limit_usd = 0.05
period = "total"
action = "block"
"""


def test_a_budget_holds_across_workers(demo_paths: WorkspacePaths) -> None:
    """Each call costs $0.008: alone, each of two workers would make 7 calls before its
    own total reached $0.05 (14 together); summed in the database they stop near 7."""
    with (
        threaded_stub(delay=0.05) as stub,
        lab_workspace(demo_paths, stub.base, 40, BUDGET) as workspace,
    ):
        uid = queue(workspace)
        workers = [WorkerThread(workspace, concurrency=1, once=True) for _ in range(2)]
        for w in workers:
            w.budget_refresh = 0.0  # sum the database's spend at every check
            w.start()
        for w in workers:
            w.join()
        calls = stub.calls
        assert 7 <= calls <= 10, calls  # 7, and at most each worker's call under way
        blocked = scalar(
            workspace,
            "SELECT count(*) FROM run_cell c JOIN run r ON r.id = c.run_id "
            "WHERE r.uid = :u AND c.error LIKE '%budget%'",
            u=uid,
        )
        assert blocked == 40 - calls
        # Each of its alerts (50, 75, 90 and 100%) was recorded once, not once per worker.
        assert scalar(workspace, "SELECT count(*) FROM budget_event") == 4
        assert scalar(workspace, "SELECT count(DISTINCT threshold) FROM budget_event") == 4

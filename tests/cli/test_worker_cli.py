"""`eval --queue`, `promptdeck worker`, `eval --wait`: end to end, and a worker killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import bindparam, text

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli
from tests.workers_help import cell_rows, lab_workspace, scalar, threaded_stub

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


def until(check: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_queue_then_worker_then_wait(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, tmp_path: Path
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    with threaded_stub() as stub, lab_workspace(demo_paths, stub.base, 12) as workspace:
        code, out, err = run_cli(capsys, *ws, "eval", "many", "--queue", "--json", "-")
        assert code == ExitCode.OK, err
        queued = json.loads(out)["runs"]
        assert [(r["suite"], r["cells"], r["status"]) for r in queued] == [("many", 12, "queued")]
        uid = queued[0]["id"]
        assert stub.calls == 0  # queued: nothing called yet
        code, _, err = run_cli(capsys, *ws, "worker", "--once", "--concurrency", "4")
        assert code == ExitCode.OK, err
        assert "worker: 12 cells in 1 run\n" in err
        assert "caps each model" not in err
        report = tmp_path / "report.json"
        code, out, err = run_cli(capsys, *ws, "eval", "--wait", uid, "--json", str(report))
        assert code == ExitCode.OK, err
        assert f"{uid}: finished" in err and "12 passed" in err
        assert json.loads(report.read_text())["summary"]["passed"] == 12
        assert stub.calls == 12
        assert scalar(workspace, "SELECT count(*) FROM trace") == 12  # each call recorded
        # More at once than [concurrency] lets one model take: said, with where to raise it.
        code, _, err = run_cli(capsys, *ws, "worker", "--once", "--concurrency", "32")
        assert code == ExitCode.OK, err
        assert "worker: 0 cells in 0 runs" in err
        assert "[concurrency] in promptdeck.toml caps each model at 8 calls at once" in err


def test_wait_exits_as_eval_does_and_says_when_no_worker_runs_it(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTDECK_LEASE_SECONDS", "1")
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    with threaded_stub() as stub, lab_workspace(demo_paths, stub.base, 3):
        code, out, _ = run_cli(capsys, *ws, "eval", "many", "--queue")
        uid = out.strip()
        code, _, err = run_cli(capsys, *ws, "eval", "--wait", uid, "--timeout", "1.5")
        assert code == ExitCode.RUNTIME
        assert f"run {uid}: no worker is running it (0 of 3 cells done)" in err
        assert "no worker ran it for 1.5 s" in err and "Traceback" not in err
        # A failing case exits 1, as eval does.
        stub.server.default.text = "billing"
        run_cli(capsys, *ws, "worker", "--once")
        code, _, err = run_cli(capsys, *ws, "eval", "--wait", uid)
        assert code == ExitCode.CHECK_FAILED and "3 cells failed" in err


def test_queue_refuses_options_that_belong_elsewhere(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    with lab_workspace(demo_paths, "http://127.0.0.1:9/v1", 2):
        for args, said in [
            (["many", "--queue", "--max-cost", "1"], "--max-cost does not go with --queue"),
            (["many", "--queue", "--junit", "x.xml"], "--junit is for --wait"),
            (["many", "--queue", "--wait", "x"], "--queue and --wait go apart"),
            (["--timeout", "3"], "--timeout goes with --wait"),
            (["many", "--wait", "x"], "--wait takes no suite names"),
        ]:
            code, _, err = run_cli(capsys, *ws, "eval", *args)
            assert code == ExitCode.USAGE and said in err, err


def _worker(ws: list[str], *more: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "promptdeck", *ws, "worker", "--concurrency", "4", *more],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROMPTDECK_LEASE_SECONDS": "2"},
    )


def test_a_worker_killed_mid_batch_loses_nothing(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    with threaded_stub(held=True) as stub, lab_workspace(demo_paths, stub.base, 30) as workspace:
        _, uid, _ = run_cli(capsys, *ws, "eval", "many", "--queue")
        uid = uid.strip()
        # Exactly eight answers come back, then the stub holds every answer.
        permits = threading.Semaphore(0)
        stub.server.gate = permits
        first = _worker(ws)
        try:
            permits.release(8)
            until(lambda: len(done_cells(workspace, uid)) >= 8)
            # Calls under way (claimed, asked, not answered): kill it mid-chunk.
            until(lambda: stub.calls - len(done_cells(workspace, uid)) >= 4)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            first.kill()
            permits.release(1000)  # every held answer and every later one goes through
        kept = done_cells(workspace, uid)
        assert 8 <= len(kept) < 30
        # As if it ran on another machine: only the lease's expiry frees its cells.
        with workspace.session() as session:
            session.execute(text("UPDATE run_lease SET host = 'elsewhere'"))
        second = _worker(ws)
        try:
            until(lambda: run_status(workspace, uid) == "finished")
            second.send_signal(signal.SIGTERM)  # idle: it leaves at once, cleanly
            assert second.wait(30) == ExitCode.OK
        finally:
            second.kill()
        rows = cell_rows(workspace, uid)
        assert len(rows) == 30 and all(r.status == "done" and r.output for r in rows)
        tickets = stub.tickets()
        assert len(tickets) == 30 and max(tickets.values()) <= 2
        # Cells done before the kill were not called again.
        assert all(tickets[f"Ticket: ticket {i}"] == 1 for i in kept_tickets(workspace, kept))
        assert sum(tickets.values()) > 30  # the killed worker's calls were made again
        # Each answer is recorded once: at most one trace per cell (the traces of the
        # killed worker's last answers may be lost with it: they are written in batches).
        traces = scalar(
            workspace,
            "SELECT count(*) FROM trace t JOIN run r ON r.id = t.run_id WHERE r.uid = :u",
            u=uid,
        )
        assert 30 - len(kept) <= traces <= 30


def run_status(workspace: Workspace, uid: str) -> str:
    return str(scalar(workspace, "SELECT status FROM run WHERE uid = :u", u=uid))


def done_cells(workspace: Workspace, uid: str) -> list[int]:
    return [r.id for r in cell_rows(workspace, uid) if r.status == "done"]


def kept_tickets(workspace: Workspace, ids: list[int]) -> list[int]:
    """The ticket numbers of these cells (cases are numbered as the dataset's rows)."""
    with workspace.session() as session:
        first = session.execute(text("SELECT min(case_index) FROM run_cell")).scalar()
        rows = session.execute(
            text("SELECT case_index FROM run_cell WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    return [int(r[0]) - int(first) for r in rows]

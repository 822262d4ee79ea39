"""`promptdeck eval`: every cell accounted for (forms of the command, identities, statuses)."""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import MINI_SUITE as SUITE
from tests.helpers import run_cli as run


@pytest.mark.parametrize("form", [["eval", "run", "mini"], ["eval", "mini"]])
def test_eval_run_suite_and_eval_suite_both_run_it(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider, form: list[str]
) -> None:
    code, _, err = run(capsys, *ws, *form)
    assert code == ExitCode.OK, err
    assert "mini: 2 cells, 2 to run" in err and "no suite named" not in err
    code, out, _ = run(capsys, *ws, "eval", "list", "--json")
    assert code == ExitCode.OK and '"suite": "mini"' in out


def test_eval_run_resume_is_the_documented_form_of_resume(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider
) -> None:
    run(capsys, *ws, "eval", "run", "mini")
    code, _, err = run(capsys, *ws, "eval", "run", "--resume", "nosuchrun")
    assert code == ExitCode.USAGE and "no run 'nosuchrun'" in err


def _run_id(err: str) -> str:
    return re.findall(r"^(\d{8}-\d{6}-[0-9a-f]{6}): ", err, re.MULTILINE)[-1]


def _db(paths: WorkspacePaths) -> sqlite3.Connection:
    return sqlite3.connect(paths.database, timeout=30)


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_list_and_show_say_a_run_whose_process_died_was_interrupted(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    code, _, err = run(capsys, *ws, "eval", "mini")
    uid = _run_id(err)
    # As a SIGKILL leaves it: one cell pending, the run running, its process gone.
    with _db(demo_paths) as conn:
        run_id = conn.execute("SELECT id FROM run WHERE uid = ?", (uid,)).fetchone()[0]
        conn.execute(
            "UPDATE run SET status = 'running', finished_at = NULL WHERE id = ?", (run_id,)
        )
        conn.execute(
            "UPDATE run_cell SET status = 'pending' WHERE id = "
            "(SELECT max(id) FROM run_cell WHERE run_id = ?)",
            (run_id,),
        )
        conn.execute(
            "UPDATE run_lease SET ended_at = NULL, pid = ?, host = ? WHERE run_id = ?",
            (_dead_pid(), socket.gethostname(), run_id),
        )
    code, out, _ = run(capsys, *ws, "eval", "list")
    assert code == ExitCode.OK and "interrupted (1 of 2 cells)" in out
    code, out, _ = run(capsys, *ws, "eval", "list", "--json")
    (row,) = json.loads(out)
    assert (row["status"], row["state"], row["done"]) == (
        "interrupted",
        "interrupted (1 of 2 cells)",
        1,
    )
    code, out, _ = run(capsys, *ws, "eval", "show", uid)
    assert out.splitlines()[0] == "## promptdeck eval: ⚠️ interrupted (1 of 2 cells)"
    code, out, _ = run(capsys, *ws, "eval", "show", uid, "--json")
    summary = json.loads(out)["summary"]
    assert (summary["status"], summary["total_cells"], summary["cells"]) == ("interrupted", 2, 1)
    code, _, err = run(capsys, *ws, "eval", "--resume", uid)
    assert code == ExitCode.OK and f"{uid}: finished" in err
    code, out, _ = run(capsys, *ws, "eval", "list")
    assert "interrupted" not in out and "finished" in out


def test_show_json_has_the_runs_start_and_finish(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    _, _, err = run(capsys, *ws, "eval", "mini")
    uid = _run_id(err)
    code, out, _ = run(capsys, *ws, "eval", "show", uid, "--json")
    summary = json.loads(out)["summary"]
    with _db(demo_paths) as conn:
        started, finished = conn.execute(
            "SELECT started_at, finished_at FROM run WHERE uid = ?", (uid,)
        ).fetchone()
    assert code == ExitCode.OK and summary["status"] == "finished"
    assert summary["started_at"] == started and summary["finished_at"] == finished
    assert summary["started_at"] <= summary["finished_at"]


def test_failures_name_each_cell_by_case_and_repeat(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    (demo_paths.suites / "mini.suite.yaml").write_text(
        SUITE.replace("expected: account", "expected: shipping") + "repeat: 2\n"
    )
    code, _, err = run(capsys, *ws, "eval", "mini")
    assert code == ExitCode.CHECK_FAILED
    code, out, _ = run(capsys, *ws, "eval", "show", _run_id(err))
    failures = [line for line in out.splitlines() if line.startswith("- **")]
    assert len(failures) == 2
    assert "case-1 #r0 login" in failures[0] and "case-1 #r1 login" in failures[1]


def test_a_case_without_assertions_is_reported_not_passed(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    (demo_paths.suites / "mini.suite.yaml").write_text(
        SUITE + "  - description: unchecked\n    vars: {ticket: Where is my parcel?}\n"
    )
    code, _, err = run(capsys, *ws, "eval", "mini", "--json", str(demo_paths.root / "r.json"))
    assert code == ExitCode.OK, err
    assert "1 cells have no assertions" in err and "1 without assertions" in err
    report = json.loads((demo_paths.root / "r.json").read_text())
    assert [c["status"] for c in report["cells"]] == ["pass", "pass", "no assertions"]
    assert (report["summary"]["passed"], report["summary"]["unchecked"]) == (2, 1)
    code, out, _ = run(capsys, *ws, "eval", "show", _run_id(err))
    assert "### No assertions (1)" in out and "case-2 #r0 unchecked" in out


def test_a_run_with_nothing_graded_claims_no_pass_rate(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    (demo_paths.suites / "bare.suite.yaml").write_text(
        "prompts: [classify-ticket]\ncases:\n  - vars: {ticket: Where is my parcel?}\n"
    )
    code, _, err = run(capsys, *ws, "eval", "bare")
    assert code == ExitCode.OK, err
    assert "no pass rate (no cell was graded)" in err and "pass rate 0%" not in err


def test_save_case_says_when_the_case_it_writes_checks_nothing(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    args = ["compare", "classify-ticket", "-v", "ticket=I was charged twice", "-m", "fake/alpha"]
    code, _, err = run(capsys, *ws, *args, "--save-case", "saved")
    assert code == ExitCode.OK and "it has no assertions yet" in err and "`no assertions`" in err
    (demo_paths.suites / "checked.suite.yaml").write_text(
        "prompts: [classify-ticket]\ndefaults:\n  assert: [{type: max-length, value: 20}]\n"
        "cases:\n  - vars: {ticket: x}\n"
    )
    code, _, err = run(capsys, *ws, *args, "--save-case", "checked")
    assert code == ExitCode.OK and "no assertions" not in err
    code, _, err = run(capsys, *ws, "eval", "saved")
    assert code == ExitCode.OK and "1 cells have no assertions" in err


SLOW_RUN = """
import asyncio, sys, time
from promptdeck.cli.main import entry
from promptdeck.core.gateway import engine
from promptdeck.core.providers.fake import FakeProvider


class Slow(FakeProvider):
    async def complete(self, request):
        if len(self.requests) >= 3:
            # like a local model generating: a thread no cancellation can stop
            await asyncio.to_thread(time.sleep, 60)
        return await super().complete(request)


provider = Slow(default="billing")
engine.make_provider_factory = lambda config, root: lambda target: provider
sys.argv = ["promptdeck", *sys.argv[1:]]
entry()
"""


def test_ctrl_c_stops_a_headless_eval_at_once_and_leaves_it_resumable(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    rows = "\n".join(json.dumps({"ticket": f"ticket {i}"}) for i in range(12))
    (demo_paths.datasets / "many.jsonl").write_text(rows + "\n")
    (demo_paths.suites / "many.suite.yaml").write_text(
        "prompts: [classify-ticket]\nconcurrency: 2\ncases:\n  - dataset: datasets/many.jsonl\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, *ws, "eval", "many"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and done < 3:
        time.sleep(0.05)
        try:
            with _db(demo_paths) as conn:
                done = conn.execute(
                    "SELECT count(*) FROM run_cell WHERE status = 'done'"
                ).fetchone()[0]
        except sqlite3.OperationalError:  # not migrated yet
            pass
    assert done >= 3
    time.sleep(0.2)  # the next calls are under way, stuck in their threads
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=20)
    finally:
        process.kill()
    took = time.monotonic() - sent
    stderr = process.stderr.read() if process.stderr else ""
    assert code == ExitCode.INTERRUPTED, stderr
    assert took < 5, f"took {took:.1f} s to stop"
    with _db(demo_paths) as conn:
        uid, status = conn.execute("SELECT uid, status FROM run").fetchone()
    assert status == "interrupted" and "--resume" in stderr
    code, _, err = run(capsys, *ws, "eval", "--resume", uid)
    assert code == ExitCode.OK and f"{uid}: finished" in err
    with _db(demo_paths) as conn:
        assert (
            conn.execute("SELECT count(*) FROM run_cell WHERE status = 'done'").fetchone()[0] == 12
        )

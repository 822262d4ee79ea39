"""A new run's first calls leave while the store opens: each request once, all accounted.

`promptdeck --headless eval SUITE` sends the first cells' requests before the store
has opened (``core/evals/early_start.py``). These tests hold what that must never
change: every request is sent once and answered once (no cell calls again what was
sent early), every answer is recorded as the fresh call it was (its latency, cost and
trace), nothing is sent for a suite its plan refuses, and an answer that arrived
before a kill is recorded by the next run and served to it from the cache, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core.evals.early_start import EarlyStart
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run
from tests.stub_openai import Reply, StubServer, run_stub_in_thread, stub_server

PROMPT = """\
name: early
system: You answer briefly.
template: "Case {{ n }}: {{ q }}"
variables:
  n: {type: integer, required: true}
  q: {required: true}
"""
PRICE_IN, PRICE_OUT = 0.001, 0.002  # the stub answers with 5 tokens in, 3 out


def _respond(body: dict[str, Any]) -> Reply:
    return Reply(text=f"ok: {body['messages'][-1]['content']}", delay=0.05)


def _workspace(paths: WorkspacePaths, base: str, cases: str, *, concurrency: int = 4) -> None:
    aliases = "".join(
        f'\n[models.{name}]\nmodel = "openai/early-{name}"\napi_base = "{base}"\n'
        f'api_key_env = "EARLY_KEY"\ninput_cost_per_token = {PRICE_IN}\n'
        f"output_cost_per_token = {PRICE_OUT}\n"
        for name in ("a", "b")
    )
    paths.config.write_text(paths.config.read_text() + aliases)
    (paths.prompts / "early.prompt.yaml").write_text(PROMPT)
    (paths.suites / "early.suite.yaml").write_text(
        f"prompts: [early]\nmodels: [a, b]\nrepeat: 2\nconcurrency: {concurrency}\ncases:\n{cases}"
    )


def _cases(n: int) -> str:
    rows = [f"  - vars: {{n: {i}, q: question {i}}}\n    assert: [{{type: contains, value: ok}}]\n"
            for i in range(n)]  # fmt: skip
    # The same request as case 0, graded differently: one call serves both cells.
    rows.append("  - vars: {n: 0, q: question 0}\n    assert: [{type: icontains, value: OK}]\n")
    return "".join(rows)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[EarlyStart]:
    """The early starts of the test's runs (the stub's key set)."""
    monkeypatch.setenv("EARLY_KEY", "sk-early")
    seen: list[EarlyStart] = []
    original = EarlyStart.start

    def start(self: EarlyStart) -> None:
        seen.append(self)
        original(self)

    monkeypatch.setattr(EarlyStart, "start", start)
    return seen


def _journals(paths: WorkspacePaths) -> list[Path]:
    return sorted((paths.state / "early").glob("*.jsonl"))


def _eval(capsys: pytest.CaptureFixture[str], paths: WorkspacePaths, *more: str) -> Any:
    return run(capsys, "--headless", "--workspace", str(paths.root), "eval", *more)


def _against_stub(
    capsys: pytest.CaptureFixture[str],
    paths: WorkspacePaths,
    respond: Any,
    cases: str,
    *runs: tuple[str, ...],
) -> tuple[StubServer, list[tuple[int, str, str]]]:
    """Set the workspace up against a loopback stub, then run ``eval`` once per args."""

    async def scenario() -> tuple[StubServer, list[tuple[int, str, str]]]:
        async with stub_server(StubServer(respond=respond)) as stub:
            _workspace(paths, stub.base, cases)
            done = [await asyncio.to_thread(_eval, capsys, paths, *args) for args in runs]
            return stub, done

    return asyncio.run(scenario())


def test_the_first_calls_leave_early_and_each_request_is_sent_and_recorded_once(
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    started: list[EarlyStart],
    tmp_path: Path,
) -> None:
    stub, ((code, _, err), (code2, _, err2)) = _against_stub(
        capsys, demo_paths, _respond, _cases(10),
        ("early", "--json", str(tmp_path / "r1.json")),
        ("early", "--json", str(tmp_path / "r2.json")),
    )  # fmt: skip
    assert code == 0, err
    assert len(started) == 1 and started[0].sent > 0  # the second run had nothing to send
    # 10 distinct requests × 2 models × 2 repeats, each sent once (the 11th case shares).
    assert len(stub.requests) == 40
    report = json.loads((tmp_path / "r1.json").read_text())
    assert report["summary"]["passed"] == 44 and report["summary"]["cost_usd"] == pytest.approx(
        40 * (5 * PRICE_IN + 3 * PRICE_OUT)
    )
    with sqlite3.connect(demo_paths.database) as db:
        traces = db.execute(
            "SELECT uid, latency_ms, cost_usd FROM trace WHERE kind = 'eval'"
        ).fetchall()
        spent = db.execute("SELECT sum(cost_usd) FROM spend").fetchone()[0]
    assert len(traces) == 40 + 40  # each call once, then run 2's cache hits
    fresh = [t for t in traces if t[2] > 0]
    assert len(fresh) == 40 and len({t[0] for t in fresh}) == 40
    # A call taken from the early start keeps its own latency (the stub's 50 ms), not the
    # time its answer waited for the run.
    assert all(40 <= t[1] < 5000 for t in fresh)
    assert spent == pytest.approx(40 * (5 * PRICE_IN + 3 * PRICE_OUT))
    assert _journals(demo_paths) == []  # every answer is recorded: the journal is gone
    assert code2 == 0, err2
    assert json.loads((tmp_path / "r2.json").read_text())["summary"]["cost_usd"] == 0


@pytest.mark.parametrize(
    "last_case",
    [
        "  - vars: {n: 99}\n    assert: [{type: contains, value: ok}]\n",  # q missing
        "  - vars: {n: 99, q: x}\n    assert: [{type: no-such-assertion}]\n",
    ],
    ids=["a case does not render", "an assertion is unknown"],
)
def test_nothing_is_sent_for_a_suite_its_plan_refuses(
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    last_case: str,
) -> None:
    monkeypatch.setenv("EARLY_KEY", "sk-early")

    stub, [(code, _, err)] = _against_stub(
        capsys, demo_paths, _respond, _cases(20) + last_case, ("early",)
    )
    assert code == 2, err
    assert "early.suite.yaml" in err
    assert stub.requests == []


def test_a_failed_early_call_is_the_cells_failure_not_a_second_call(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str], started: list[EarlyStart]
) -> None:
    refuse = Reply(status=400, body='{"error": {"message": "bad request"}}')
    stub, [(code, _, err)] = _against_stub(
        capsys, demo_paths, lambda body: refuse, _cases(3), ("early",)
    )
    assert code == 3, err  # every call failed
    assert started and started[0].sent > 0
    assert len(stub.requests) == 12  # each request tried once (a 400 is not retried)
    assert _journals(demo_paths) == []


def test_a_journal_that_cannot_be_written_stops_the_early_sending_and_loses_nothing(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str], started: list[EarlyStart]
) -> None:
    demo_paths.state.mkdir(exist_ok=True)
    (demo_paths.state / "early").write_text("not a folder")  # the journal cannot be made
    stub, [(code, _, err)] = _against_stub(capsys, demo_paths, _respond, _cases(10), ("early",))
    assert code == 0, err
    assert started and 0 < started[0].sent < 40
    assert len(stub.requests) == 40  # each request once all the same
    with sqlite3.connect(demo_paths.database) as db:
        assert db.execute("SELECT count(*) FROM trace WHERE cost_usd > 0").fetchone()[0] == 40


def test_answers_that_arrived_before_a_kill_are_recorded_once_and_served_from_the_cache(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLY_KEY", "sk-early")
    stub = StubServer(respond=lambda body: Reply(text="ok"))
    with run_stub_in_thread(stub) as base:
        _workspace(demo_paths, base, _cases(3), concurrency=16)  # 12 requests
        Workspace.open(demo_paths).close()  # its database made
        # Hold the database's write lock: the process's store cannot open (it waits),
        # while its first calls go out and their answers come back.
        lock = sqlite3.connect(demo_paths.database, isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        env = {**os.environ, "EARLY_KEY": "sk-early"}
        process = subprocess.Popen(
            [sys.executable, "-m", "promptdeck", "--headless", "-w", str(demo_paths.root),
             "eval", "early"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _lines(demo_paths) < 12:
                time.sleep(0.02)
            assert _lines(demo_paths) == 12, process.poll()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert len(stub.requests) == 12
        with sqlite3.connect(demo_paths.database) as db:
            assert db.execute("SELECT count(*) FROM run").fetchone()[0] == 0  # never stored

        code, _, err = _eval(capsys, demo_paths, "early")
        assert code == 0, err
        assert "recorded 12 answers" in err
        assert len(stub.requests) == 12  # nothing paid for twice: served from the cache
        code, _, err = _eval(capsys, demo_paths, "early")
        assert code == 0, err
        assert "recorded" not in err and len(stub.requests) == 12
    assert _journals(demo_paths) == []
    with sqlite3.connect(demo_paths.database) as db:
        fresh = db.execute("SELECT count(*) FROM trace WHERE cost_usd > 0").fetchone()[0]
        spent = db.execute("SELECT sum(cost_usd) FROM spend").fetchone()[0]
    assert fresh == 12  # each answer recorded once, with what it cost
    assert spent == pytest.approx(12 * (5 * PRICE_IN + 3 * PRICE_OUT))


def _lines(paths: WorkspacePaths) -> int:
    return sum(len(p.read_text().splitlines()) for p in _journals(paths))

"""`promptdeck eval` headless: exit codes, reports, baselines, and a run killed then resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import MINI_SUITE as SUITE
from tests.helpers import run_cli as run


def test_all_passing_exits_0_and_writes_every_report(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider, tmp_path: Path
) -> None:
    out_dir = tmp_path / "reports"
    code, out, err = run(
        capsys,
        *ws,
        "eval",
        "mini",
        "--junit",
        str(out_dir / "j.xml"),
        "--json",
        str(out_dir / "r.json"),
        "--jsonl",
        str(out_dir / "c.jsonl"),
        "--markdown",
        str(out_dir / "s.md"),
    )
    assert code == ExitCode.OK, err
    assert out == ""  # progress goes to stderr
    assert "mini: 2 cells, 2 to run (0 in the cache)" in err
    suite = ElementTree.parse(out_dir / "j.xml").getroot()
    assert suite.tag in ("testsuites", "testsuite")
    assert json.loads((out_dir / "r.json").read_text())["summary"]["passed"] == 2
    assert len((out_dir / "c.jsonl").read_text().splitlines()) == 2
    assert "2/2 passed" in (out_dir / "s.md").read_text()


def test_a_failure_exits_1_and_bless_and_regressions(
    capsys: pytest.CaptureFixture[str], ws: list[str], fake: FakeProvider
) -> None:
    code, _, err = run(capsys, *ws, "eval", "mini")
    run_id = err.strip().splitlines()[-1].split(":")[0]
    code, out, _ = run(capsys, *ws, "eval", "bless", run_id)
    assert code == 0 and "baseline" in out
    fake.default = lambda r: "billing"
    code, _, err = run(capsys, *ws, "eval", "mini", "--no-cache", "--fail-on-regression")
    assert code == ExitCode.CHECK_FAILED
    assert "regression: classify-ticket · local/smollm2-135m" in err
    second = [line for line in err.splitlines() if ": finished" in line][-1].split(":")[0]
    code, out, _ = run(capsys, *ws, "eval", "compare", run_id, second, "--json")
    data = json.loads(out)
    assert code == 0 and len(data["regressions"]) == 1 and data["significant"] is False
    code, out, _ = run(capsys, *ws, "eval", "list", "--json")
    assert [r["baseline"] for r in json.loads(out)] == [False, True]
    code, out, _ = run(capsys, *ws, "eval", "show", second)
    assert code == 0 and "1 failed" in out


def test_configuration_errors_exit_2_and_unknown_suite(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    demo_paths: WorkspacePaths,
    fake: FakeProvider,
) -> None:
    (demo_paths.suites / "mini.suite.yaml").write_text(SUITE.replace("equals", "equalz"))
    code, _, err = run(capsys, *ws, "eval", "mini")
    assert code == ExitCode.USAGE and "suites/mini.suite.yaml:" in err and "equalz" in err
    code, _, err = run(capsys, *ws, "eval", "nope")
    assert code == ExitCode.USAGE and "no suite named 'nope'" in err
    assert fake.requests == []


def test_every_call_failing_exits_3(
    capsys: pytest.CaptureFixture[str], ws: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptdeck.core.providers.base import ErrorKind, ProviderError

    def down(request: ChatRequest) -> str:
        raise ProviderError(ErrorKind.CONNECTION, "connection refused by 127.0.0.1:9")

    provider = FakeProvider(default=down)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    code, _, err = run(capsys, *ws, "eval", "mini")
    assert code == ExitCode.RUNTIME and "every model call failed" in err
    assert err.count("Traceback") == 0


class _Slow(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(body["messages"][-1]["content"])
        time.sleep(0.15)
        answer = {
            "id": "x",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "billing"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[tuple[str, list[str]]]:
    _Slow.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Slow.seen
    server.shutdown()


def _done(db: Path) -> list[str]:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            rows = conn.execute("SELECT case_key FROM run_cell WHERE status = 'done'")
            return [r[0] for r in rows]
    except sqlite3.OperationalError:  # the subprocess has not migrated the database yet
        return []


def test_a_run_killed_midway_is_consistent_and_resumes_without_redoing_cells(
    demo_paths: WorkspacePaths, slow_server: tuple[str, list[str]]
) -> None:
    base, seen = slow_server
    config = demo_paths.config
    config.write_text(
        config.read_text()
        + f'\n[models.stub]\nmodel = "openai/stub"\napi_base = "{base}"\napi_key_env = "STUB_KEY"\n'
    )
    (demo_paths.suites / "kill.suite.yaml").write_text(
        "prompts: [classify-ticket]\nmodels: [stub]\nconcurrency: 2\ncases:\n"
        "  - dataset: datasets/tickets_labelled.csv\n"
    )
    env = {**os.environ, "STUB_KEY": "test-key"}
    exe = [sys.executable, "-m", "promptdeck", "--headless", "-w", str(demo_paths.root)]
    process = subprocess.Popen(
        [*exe, "eval", "kill"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    db = demo_paths.database
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_done(db) if db.exists() else []) < 6:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        uid, status = conn.execute("SELECT uid, status FROM run").fetchone()
        pending = conn.execute("SELECT count(*) FROM run_cell WHERE status = 'pending'").fetchone()[
            0
        ]
    done_before = set(_done(db))
    assert status == "running" and pending > 0 and len(done_before) >= 6
    asked_before = len(seen)
    result = subprocess.run(
        [*exe, "eval", "--resume", uid], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == ExitCode.OK, result.stderr  # no assertions: every answer passes
    assert f"{uid}: finished" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM run").fetchone()[0] == "finished"
        assert (
            conn.execute("SELECT count(*) FROM run_cell WHERE status = 'done'").fetchone()[0] == 20
        )
    tickets = {
        line.split(",")[0]
        for line in (demo_paths.datasets / "tickets_labelled.csv").read_text().splitlines()[1:]
    }
    asked_after = seen[asked_before:]
    assert len(tickets) == 20 and len(asked_after) <= 20 - len(done_before)


@pytest.mark.local_model
def test_a_demo_style_suite_runs_headless_on_the_real_local_model(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, tmp_path: Path
) -> None:
    (demo_paths.suites / "two.suite.yaml").write_text(
        "prompts: [classify-ticket]\ncases:\n"
        "  - vars: {ticket: I was charged twice for March}\n    expected: billing\n"
        "    assert: [{type: max-length, value: 40}]\n"
        "  - vars: {ticket: My parcel never arrived}\n    expected: shipping\n"
        "    assert: [{type: max-length, value: 40}]\n"
    )
    report = tmp_path / "r.json"
    code, _, err = run(
        capsys, "--headless", "-w", str(demo_paths.root), "eval", "two", "--json", str(report)
    )
    assert code in (ExitCode.OK, ExitCode.CHECK_FAILED), err
    cells = json.loads(report.read_text())["cells"]
    assert len(cells) == 2
    assert all(c["error"] is None and c["output"].strip() and c["tokens"] for c in cells)


def test_a_concurrency_above_the_models_cap_is_said(
    capsys: pytest.CaptureFixture[str],
    ws: list[str],
    fake: FakeProvider,
    demo_paths: WorkspacePaths,
) -> None:
    """`--concurrency 32` against one model capped at 8 says so, naming where the cap is."""
    code, _, err = run(capsys, *ws, "eval", "mini", "--concurrency", "32")
    assert code == ExitCode.OK, err
    assert (
        "warning: suite mini: concurrency 32, but at most 8 calls run at once: [concurrency] in "
        "promptdeck.toml caps each model (default = 8); raise `default` or `per_model` there"
    ) in err
    code, _, err = run(capsys, *ws, "eval", "mini", "--concurrency", "8", "--no-cache")
    assert code == ExitCode.OK, err
    assert "at most" not in err
    config = demo_paths.root / "promptdeck.toml"
    config.write_text(config.read_text() + '\n[concurrency.per_model]\n"local/smollm2-135m" = 40\n')
    code, _, err = run(capsys, *ws, "eval", "mini", "--concurrency", "32", "--no-cache")
    assert code == ExitCode.OK, err
    assert "at most" not in err

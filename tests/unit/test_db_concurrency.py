"""Never "database is locked": commands wait for the writer instead of failing.

The mix of the report: eval runs writing batches of calls at once, while a loop
rewrites a prompt file and runs the sync every command starts with, then lists the
prompts. Each worker has its own engine (its own connections), as separate processes
would. Counts are fixed and timeouts generous, so the test does not depend on timing:
without the fix the syncs fail within a few iterations; with it they never do.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from promptdeck.core.prompts.versions import move_label
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from promptdeck.store import db
from promptdeck.store.calls_repo import CallRecord, SpanRecord, write_calls
from promptdeck.timeutil import utcnow
from tests.helpers import run_cli

BATCHES = 40
"""Write transactions per eval-like writer."""
CALLS_PER_BATCH = 32
ROUNDS = 15
"""File rewrites, each followed by sync + list."""


def _record(n: int) -> CallRecord:
    now = utcnow()
    return CallRecord(
        trace={
            "uid": f"{threading.get_ident():x}-{n}-{os.urandom(4).hex()}",
            "name": "summarize@1",
            "kind": "eval",
            "model": "fake/m",
            "status": "ok",
            "cost_usd": 0.0,
            "started_at": now,
            "ended_at": now,
        },
        completion={
            "request_hash": f"h{n}",
            "model": "fake/m",
            "request": {"messages": []},
            "text": "an answer " * 20,
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "cost_usd": 0.0,
            "latency_ms": 1.0,
            "cached": False,
            "created_at": now,
        },
        spans=[SpanRecord("chat fake/m", "llm", "ok", now, now + timedelta(milliseconds=1))],
    )


def _eval_writer(paths: WorkspacePaths) -> None:
    workspace = Workspace.open(paths)
    try:
        for batch in range(BATCHES):
            with workspace.session() as session:
                write_calls(session, [_record(batch * 100 + i) for i in range(CALLS_PER_BATCH)])
    finally:
        workspace.close()


def _labeller(paths: WorkspacePaths) -> None:
    """A reader-turned-writer: resolve a version, then move a label (ORM writes)."""
    workspace = Workspace.open(paths)
    try:
        for n in range(ROUNDS * 2):
            with workspace.session() as session:
                move_label(session, "classify-ticket@1", "staging", f"round {n}")
    finally:
        workspace.close()


def _rewrite(path: Path, n: int) -> None:
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("description:")]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join([f"description: round {n}", *lines]) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _syncer(paths: WorkspacePaths, rewrite: bool) -> None:
    """What `promptdeck prompts list` does, after (optionally) editing a prompt file."""
    target = paths.prompts / "summarize.prompt.yaml"
    for n in range(ROUNDS):
        if rewrite:
            _rewrite(target, n)
        workspace = Workspace.open(paths)
        try:
            workspace.sync()
            assert workspace.prompt_summaries()
        finally:
            workspace.close()


def test_syncs_and_lists_never_fail_while_evals_write(demo_paths: WorkspacePaths) -> None:
    seed = Workspace.open(demo_paths)
    seed.sync()
    seed.close()
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        return run

    workers = [
        guarded(lambda: _eval_writer(demo_paths)),
        guarded(lambda: _eval_writer(demo_paths)),
        guarded(lambda: _labeller(demo_paths)),
        guarded(lambda: _syncer(demo_paths, rewrite=True)),
        guarded(lambda: _syncer(demo_paths, rewrite=False)),
    ]
    threads = [threading.Thread(target=w) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    locked = [e for e in errors if isinstance(e, OperationalError | sqlite3.OperationalError)]
    assert not locked, f"{len(locked)} lock errors, first: {locked[0]}"
    assert not errors, errors[0]
    with sqlite3.connect(demo_paths.database) as conn:
        traces = conn.execute("SELECT count(*) FROM trace").fetchone()[0]
        staging = conn.execute("SELECT count(*) FROM label_event WHERE label='staging'").fetchone()
    assert traces == 2 * BATCHES * CALLS_PER_BATCH
    assert staging[0] == ROUNDS * 2  # one move, then the same place again with a note


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits for a lock end after 0.2 s, so a test that would wait fails fast instead."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.mark.usefixtures("short_busy_timeout")
def test_an_unchanged_workspace_syncs_without_waiting_for_the_writer(
    demo_paths: WorkspacePaths,
) -> None:
    broken = demo_paths.prompts / "broken.prompt.yaml"
    broken.write_text("name: broken\ntemplate: [oops\n", encoding="utf-8")
    workspace = Workspace.open(demo_paths)
    try:
        first = workspace.sync()
        holder = _hold_write_lock(demo_paths.database)
        try:
            again = workspace.sync()  # reads only: the held write lock does not stop it
            assert workspace.prompt_summaries()
        finally:
            holder.rollback()
            holder.close()
    finally:
        workspace.close()
    assert [e.title for e in again.errors] == [e.title for e in first.errors]
    assert len(again.errors) == 1 and not again.new_versions and not again.missing


@pytest.mark.usefixtures("short_busy_timeout")
def test_a_lock_held_past_the_timeout_is_a_one_line_error(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "--workspace", str(demo_paths.root), "--headless", "prompts", "list")
    holder = _hold_write_lock(demo_paths.database)
    try:
        code, _, err = run_cli(
            capsys,
            "--workspace",
            str(demo_paths.root),
            "--headless",
            "prompts",
            "label",
            "summarize@1",
            "production",
        )
    finally:
        holder.rollback()
        holder.close()
    assert code == ExitCode.RUNTIME
    assert "internal error" not in err and "Traceback" not in err
    assert "workspace database stayed busy" in err.splitlines()[0]

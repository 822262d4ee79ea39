"""``promptdeck db copy``: a SQLite history into PostgreSQL and back, checked by hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.store.calls_repo import CallRecord, SpanRecord, write_calls
from promptdeck.store.copy import _tables, table_digest
from promptdeck.store.engines import create_engine_for
from promptdeck.timeutil import utcnow
from tests.helpers import run_cli as run
from tests.pg import PgServer, connect


def _history(paths: WorkspacePaths) -> None:
    """Versions, a label move, calls with traces, spans, bytes and unicode."""
    workspace = Workspace.open(paths)
    try:
        workspace.sync()
        now = utcnow()
        record = CallRecord(
            trace={
                "uid": "t-1",
                "name": "summarize@1",
                "kind": "run",
                "model": "fake/m",
                "status": "ok",
                "cost_usd": 0.1 + 0.2,
                "started_at": now,
                "ended_at": now,
            },
            completion={
                "request_hash": "h",
                "model": "fake/m",
                "request": {"cache": "exact", "messages": [{"role": "user", "content": "Grüße ✓"}]},
                "text": "ünïcode ✓ 'quoted' % ?",
                "cost_usd": 1e-9,
                "cached": True,
                "created_at": now,
            },
            spans=[
                SpanRecord("render", "render", "ok", now, now),
                SpanRecord("chat", "llm", "ok", now, now, {"a": 1}, parent=0),
            ],
        )
        with workspace.session() as session:
            write_calls(session, [record])
    finally:
        workspace.close()


def _digests(target: Path | str) -> dict[str, tuple[int, str]]:
    engine = create_engine_for(target)
    try:
        return {t.name: table_digest(engine, t) for t in _tables()}
    finally:
        engine.dispose()


def test_sqlite_to_postgres_and_back(
    pg_server: PgServer,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _history(demo_paths)
    before = _digests(demo_paths.database)
    assert before["span"][0] == 2 and before["prompt_version"][0] == 6
    url = pg_server.create_database()
    ws = ["--workspace", str(demo_paths.root)]
    code, out, err = run(capsys, *ws, "db", "copy", "--to", url, "--json")
    assert (code, err) == (0, "")
    tables = {t["name"]: (t["rows"], t["sha256"]) for t in json.loads(out)["tables"]}
    assert tables == before == _digests(url)
    # Copying again into a database that holds data is refused.
    code, _, err = run(capsys, *ws, "db", "copy", "--to", url)
    assert code == 2 and "already holds data (table" in err
    # The shared database works as the workspace's, and new rows get new ids.
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", url)
    code, out, _ = run(capsys, *ws, "--headless", "prompts", "label", "summarize@1", "production")
    assert code == 0
    # And back into a new SQLite file.
    back = tmp_path / "back.db"
    code, out, err = run(capsys, *ws, "db", "copy", "--to", str(back))
    assert code == 0 and "Row counts and content hashes match." in out
    again = _digests(back)
    assert again["label_event"][0] == before["label_event"][0] + 1
    assert {k: v for k, v in again.items() if k not in ("label", "label_event")} == {
        k: v for k, v in before.items() if k not in ("label", "label_event")
    }
    ids = connect(url).execute("SELECT max(id) FROM label_event").fetchone()[0]
    assert ids == again["label_event"][0]

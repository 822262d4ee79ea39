"""The lists the screens and CLI show read the same on SQLite and PostgreSQL, by index.

Each list (prompts, a prompt's history, traces and their filters, a trace's spans, runs,
a run's cells, stats, cache stats, the review queue) runs on both engines with its
content checked; then every SELECT it sent is EXPLAINed: no full scan of the big tables
(trace, span, run_cell, completion). On PostgreSQL the plan is asked with
``enable_seqscan = off``, so a sequential scan that remains means no index could serve.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from promptdeck.core.prompts.versions import prompt_history
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import cache_repo, feedback_repo, prompts_repo, runs_repo, stats_repo
from promptdeck.store.calls_repo import write_calls
from promptdeck.store.runs_repo import CellKey
from promptdeck.store.traces_repo import TraceFilter, find_trace, list_traces
from tests.pg import EngineChoice
from tests.tui.gateway_data import T0, _record

BIG = ("trace", "span", "run_cell", "completion")
TRACES = 400
CELLS = 600


def _fill(workspace: Workspace) -> str:
    """TRACES calls (two models, two prompts, every fifth failed, every seventh cached)
    and a run of CELLS cells; return the run's uid."""
    records = [
        _record(
            i,
            model="openai/gpt-4o-mini" if i % 2 else "local/smollm2-135m",
            prompt="summarize" if i % 3 else "classify-ticket",
            text=None if i % 5 == 0 else f"answer {i}",
            latency=100 + i,
            cost=0.001,
            error="boom" if i % 5 == 0 else None,
            cached="exact" if i % 7 == 1 else None,
        )
        for i in range(TRACES)
    ]
    with workspace.session() as session:
        write_calls(session, records)
        run = runs_repo.create_run(session, "20261120-180000-abcdef", "bench", {"suite": "bench"})
        assert run.id is not None
        keys = (CellKey(None, "m", f"k{i}", i, 0, None) for i in range(CELLS))
        runs_repo.insert_cells(session, run.id, keys)
        return run.uid


@contextmanager
def _statements(workspace: Workspace) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not many:
            sent.append((statement, params))

    event.listen(workspace.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(workspace.engine, "before_cursor_execute", seen)


def _full_scans(workspace: Workspace, statement: str, params: Any) -> list[str]:
    """The big tables ``statement`` reads whole, per the engine's own plan."""
    with workspace.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params)]
            found = [
                m.group(1) for line in plan for m in [re.search(r"Seq Scan on (\w+)", line)] if m
            ]
        else:
            plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            # A bare SCAN walks the table; one in rowid order that stops at a LIMIT (no
            # temporary B-tree to sort) reads only the page asked for.
            paged = "LIMIT" in statement and not any("TEMP B-TREE" in line for line in plan)
            found = [
                m.group(1)
                for line in plan
                for m in [re.match(r"SCAN (\w+)", line)]
                if m
                and "USING" not in line
                and not (paged and f"ORDER BY {m.group(1)}.id" in statement)
            ]
        conn.rollback()
    return [table for table in found if table in BIG]


def test_every_list_reads_the_same_and_by_index(engine: EngineChoice, workspace: Workspace) -> None:
    workspace.sync()
    uid = _fill(workspace)
    since = T0 + timedelta(minutes=TRACES - 10)
    with _statements(workspace) as sent, workspace.session() as session:
        summaries = prompts_repo.list_prompt_summaries(session)
        assert [s.name for s in summaries][:2] == ["classify-ticket", "customer-support"]
        history = prompt_history(session, "summarize")
        assert [v.version for v in history.versions] == [1]
        newest = list_traces(session, limit=10)
        assert [t.started_at for t in newest] == sorted(
            (t.started_at for t in newest), reverse=True
        )
        assert newest[0].started_at == T0 + timedelta(minutes=TRACES - 1)
        page = list_traces(session, limit=10, offset=10)
        assert {t.id for t in page}.isdisjoint({t.id for t in newest})
        by = {
            "prompt": TraceFilter(prompt="classify-ticket"),
            "model": TraceFilter(model="openai/gpt-4o-mini"),
            "status": TraceFilter(status="error"),
            "since": TraceFilter(since=since),
            "source": TraceFilter(source="promptdeck"),
        }
        got = {name: list_traces(session, where, limit=1000) for name, where in by.items()}
        assert len(got["prompt"]) == len(range(0, TRACES, 3))
        assert len(got["model"]) == TRACES // 2
        assert len(got["status"]) == TRACES // 5 and {t.status for t in got["status"]} == {"error"}
        assert len(got["since"]) == 10 and len(got["source"]) == TRACES
        typed = list_traces(session, TraceFilter(model="GPT-4O", substring=True), limit=1000)
        assert len(typed) == TRACES // 2
        detail = find_trace(session, newest[0].uid)
        assert detail is not None and detail.spans and detail.completion is not None
        runs = runs_repo.list_runs(session)
        assert (
            [r.uid for r in runs] == [uid] == [r.uid for r in runs_repo.list_runs(session, "bench")]
        )
        run_id = runs[0].id
        assert run_id is not None
        cells = [cell.case_key for cell, _ in runs_repo.iter_cells(session, run_id, batch=100)]
        assert cells[:2] == ["k0", "k1"] and len(cells) == CELLS
        counts = runs_repo.cell_counts(session, run_id)
        assert (counts["total"], counts["pending"]) == (CELLS, CELLS)
        stats = stats_repo.call_stats(session)
        assert sum(s.calls for s in stats) == TRACES
        assert sum(s.errors for s in stats) == TRACES // 5
        recent = stats_repo.call_stats(session, by_prompt=False, since=since)
        assert sum(s.calls for s in recent) == 10
        cached = cache_repo.cache_stats(session)
        exact = sum(s.hits for s in cached if s.cache == "exact")
        assert exact == sum(1 for i in range(TRACES) if i % 7 == 1 and i % 5)
        assert feedback_repo.review_queue(session) == []
    scans = {
        statement: found
        for statement, params in sent
        if (found := _full_scans(workspace, statement, params))
        # Cache stats add up every completion: they read them all by design.
        and "GROUP BY completion.model" not in statement
    }
    assert not scans, "\n\n".join(f"{table} read whole by: {s}" for s, table in scans.items())

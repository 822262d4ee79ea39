"""Bulk look-ups of the store: exact-cache answers and earlier grades."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import cache_repo, runs_repo
from promptdeck.store.calls_repo import CallRecord, write_calls
from promptdeck.store.runs_repo import CellKey, CellWrite, ScoreWrite
from promptdeck.store.tables import PromptVersion
from promptdeck.timeutil import utcnow

ON_BOTH = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


def _call(key: str, text: str | None, error: str | None = None, age_days: int = 0) -> CallRecord:
    when = utcnow() - timedelta(days=age_days)
    return CallRecord(
        trace={
            "uid": key,
            "name": "t",
            "kind": "call",
            "model": "m",
            "status": "ok",
            "started_at": when,
            "ended_at": when,
        },
        completion={
            "request_hash": key,
            "model": "m",
            "request": {},
            "text": text,
            "error": error,
            "created_at": when,
        },
        cache={"kind": "exact", "key": key, "model": "m", "scope": "", "created_at": when},
    )


@ON_BOTH
def test_find_exact_many_matches_find_exact(workspace: Workspace) -> None:
    with workspace.session() as session:
        write_calls(
            session,
            [_call("a", "alpha"), _call("b", None, error="boom"), _call("old", "x", age_days=10)],
        )
    with workspace.session() as session:
        keys = ["a", "b", "old", "none", "a"]
        many = cache_repo.find_exact_many(session, keys)
        assert {k: h.text for k, h in many.items()} == {"a": "alpha", "old": "x"}
        assert many["a"] == cache_repo.find_exact(session, "a")
        assert cache_repo.exact_keys(session, keys) == {"a", "old"}
        recent = utcnow() - timedelta(days=1)
        assert set(cache_repo.find_exact_many(session, keys, recent)) == {"a"}
        assert cache_repo.exact_keys(session, keys, recent) == {"a"}
        assert cache_repo.find_exact_many(session, []) == {}


def _cells(session: Session, vid: int, run_uid: str, outputs: list[str], grading: str) -> list[int]:
    run = runs_repo.create_run(session, run_uid, "s", {})
    assert run.id is not None
    keys = [CellKey(vid, "m", f"c#{i}", i, 0) for i in range(len(outputs))]
    runs_repo.insert_cells(session, run.id, keys)
    cells = runs_repo.pending_cells(session, run.id, 0, 100)
    runs_repo.write_cells(
        session,
        [
            CellWrite(
                c.id,
                "done",
                out,
                0.5 + i / 10,
                i % 2 == 0,
                None,
                "fresh",
                None,
                1.0,
                None,
                None,
                0.0,
                grading,
                (ScoreWrite(f"s{i}", "equals", 1.0, True, 1.0, "ok"),),
            )
            for i, (c, out) in enumerate(zip(cells, outputs, strict=True))
        ],
    )
    return [c.id for c in cells]


def _a_version(workspace: Workspace) -> int:
    """Sync the demo prompts; return the id of one of their versions."""
    workspace.sync()
    with workspace.session() as session:
        version = session.exec(select(PromptVersion)).first()
        assert version is not None and version.id is not None
        return version.id


@ON_BOTH
def test_previous_grades_many_finds_the_latest_matching_cell(workspace: Workspace) -> None:
    vid = _a_version(workspace)
    with workspace.session() as session:
        _cells(session, vid, "r1", ["one", "two"], "g1")
        newer = _cells(session, vid, "r2", ["one", "changed"], "g1")
        _cells(session, vid, "r3", ["one", "two"], "other-assertions")
    wanted = [
        (CellKey(vid, "m", "c#0", 0, 0), "g1", "one"),  # in r1 and r2: r2's
        (CellKey(vid, "m", "c#1", 1, 0), "g1", "two"),  # only r1 has this output
        (CellKey(vid, "m", "c#1", 1, 0), "g1", "never"),
        (CellKey(vid, "m", "c#0", 0, 0), "g9", "one"),  # unknown grading key
    ]
    with workspace.session() as session:
        found = runs_repo.previous_grades_many(session, wanted)
        assert set(found) == set(wanted[:2])
        first = found[wanted[0]]
        assert first.scores[0].cell_id == newer[0]
        assert (first.score, first.passed) == (0.5, True)
        assert [s.name for s in found[wanted[1]].scores] == ["s1"]
        assert found[wanted[1]].passed is False


@ON_BOTH
def test_call_stats_since_filters_by_start(workspace: Workspace) -> None:
    from promptdeck.store.stats_repo import call_stats

    with workspace.session() as session:
        write_calls(session, [_call("new", "a"), _call("old", "b", age_days=10)])
    with workspace.session() as session:
        assert sum(s.calls for s in call_stats(session)) == 2
        since = utcnow() - timedelta(days=1)
        assert sum(s.calls for s in call_stats(session, since=since)) == 1


def test_previous_grades_are_found_through_the_index(workspace: Workspace) -> None:
    """Looking up kept grades must not scan earlier cells, nor sort them.

    The lookup walks the grading index backwards and stops at the first match, so its
    cost does not grow with the number of earlier runs. (SQLite's query plan: on
    PostgreSQL the planner chooses by statistics.)
    """
    vid = _a_version(workspace)
    with workspace.session() as session:
        for run in range(3):
            _cells(session, vid, f"r{run}", ["one"], "g1")
    seen: list[str] = []
    with workspace.session() as session:
        raw = session.connection().connection.driver_connection
        assert raw is not None
        raw.set_trace_callback(seen.append)
        try:
            found = runs_repo.previous_grades_many(
                session, [(CellKey(vid, "m", "c#0", 0, 0), "g1", "one")]
            )
        finally:
            raw.set_trace_callback(None)
        assert len(found) == 1
        lookups = [statement for statement in seen if "run_cell" in statement]
        assert lookups
        for statement in lookups:
            plan = " ".join(str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert "USING INDEX ix_run_cell_grading" in plan, plan
            assert "SCAN run_cell" not in plan and "TEMP B-TREE" not in plan, plan

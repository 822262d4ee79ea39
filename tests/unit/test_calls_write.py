"""Writing a batch of gateway calls: every row linked right, keys scrubbed, in one pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from promptdeck import secrecy, secrecy_forms
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.calls_repo import CallRecord, SpanRecord, write_calls
from promptdeck.timeutil import utcnow

ON_BOTH = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL
KEY = "Wq-batch-secret-4e5f6a7b8c9d"
_EVENT = {"budget": "m", "period_key": "2026-11", "threshold": 0.8}
_EVENT |= {"spent_usd": 0.9, "action": "warn"}


def _call(n: int, answer: str) -> CallRecord:
    start = utcnow()
    spans = [
        SpanRecord("render", "render", "ok", start, start + timedelta(milliseconds=1)),
        SpanRecord(
            "chat m",
            "llm",
            "ok",
            start,
            start + timedelta(milliseconds=50),
            {"gen_ai.output.text": answer, "n": n},
            parent=0,
        ),
        SpanRecord("budget", "budget", "ok", start, start, {"left": 1.5}, parent=1),
    ]
    return CallRecord(
        trace={"uid": f"t{n}", "name": "c", "kind": "call", "model": "m", "status": "ok"}
        | {"started_at": start, "ended_at": start, "cost_known": True},
        completion={"request_hash": f"h{n}", "model": "m", "request": {"messages": [n]}}
        | {"text": answer, "created_at": start, "cached": False},
        spans=spans,
        spend={"day": "2026-11-20", "model": "m", "cost_usd": 0.5, "tokens": 3}
        | {"created_at": start},
        cache={"kind": "exact", "key": f"k{n}", "model": "m", "scope": "", "created_at": start},
        budget_events=[_EVENT | {"created_at": start}] if n == 2 else [],
    )


@ON_BOTH
def test_a_batch_is_stored_linked_and_scrubbed(workspace: Workspace) -> None:
    secrecy.remember(KEY)
    records = [_call(n, f"answer {n}" if n != 3 else f"echo {KEY}") for n in range(6)]
    with workspace.session() as session:
        ids = write_calls(session, records)
    with workspace.session() as session:
        db = session.connection()
        texts = db.execute(text("SELECT id, text FROM completion ORDER BY id")).all()
        assert [t for _, t in texts] == [f"answer {n}" for n in range(3)] + ["echo ***"] + [
            "answer 4",
            "answer 5",
        ]
        assert ids == [i for i, _ in texts]
        traces = db.execute(text("SELECT id, uid, completion_id FROM trace ORDER BY id")).all()
        assert [(u, c) for _, u, c in traces] == [(f"t{n}", ids[n]) for n in range(6)]
        for trace_id, uid, _ in traces:
            spans = db.execute(
                text(
                    "SELECT id, parent_id, name, attributes FROM span WHERE trace_id = :t "
                    "ORDER BY id"
                ),
                {"t": trace_id},
            ).all()
            assert [s.name for s in spans] == ["render", "chat m", "budget"]
            assert [s.parent_id for s in spans] == [None, spans[0].id, spans[1].id]
            assert (KEY in str(spans[1].attributes)) is False
            assert ("***" in str(spans[1].attributes)) == (uid == "t3")
        spend = db.execute(text("SELECT trace_id FROM spend ORDER BY id")).scalars().all()
        assert spend == [t[0] for t in traces]
        keys = db.execute(text("SELECT key, completion_id FROM cache_entry ORDER BY id")).all()
        assert [tuple(k) for k in keys] == [(f"k{n}", ids[n]) for n in range(6)]
        events = db.execute(text("SELECT action FROM budget_event")).scalars().all()
        assert events == ["warn"]


def test_a_clean_batch_is_scrubbed_in_one_pass(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row scrubbed on its own cost a scrub per row: hundreds per batch of calls."""
    passes: list[int] = []
    generic = secrecy_forms.generic

    def counted(value: str) -> str:
        passes.append(len(value))
        return generic(value)

    monkeypatch.setattr(secrecy_forms, "generic", counted)
    with workspace.session() as session:
        write_calls(session, [_call(n, f"answer {n}") for n in range(40)])
    assert len(passes) == 1

"""What workers share through the database: claims that skip locked rows, the cache, m015."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from promptdeck.core.gateway.engine import CallSpec, Gateway
from promptdeck.paths import WorkspacePaths
from promptdeck.store import leases_repo
from promptdeck.store.db import session_scope
from promptdeck.timeutil import utcnow
from tests.pg import EngineChoice, blank_target, connect
from tests.workers_help import cell_rows, lab_workspace, queue, threaded_stub

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL

MESSAGES = [{"role": "user", "content": "Ticket: ticket 1"}]


def test_an_answer_one_worker_wrote_serves_another(demo_paths: WorkspacePaths) -> None:
    """The other worker read its batch ahead (a miss then): it looks again before calling."""
    with threaded_stub() as stub, lab_workspace(demo_paths, stub.base, 1) as workspace:

        async def go(shared: bool) -> str | None:
            one, two = Gateway.for_workspace(workspace), Gateway.for_workspace(workspace)
            two.exact.shared = shared
            spec = CallSpec(model="lab", messages=MESSAGES, params={"seed": int(shared)})
            assert await two.prefetch([spec], [two.cache_key(spec)]) == [None]
            await one.call(spec)
            await one.aclose()
            result = await two.call(spec)
            await two.aclose()
            return result.completion.cached

        assert asyncio.run(go(shared=True)) == "exact"
        assert stub.calls == 1
        # A gateway alone trusts the misses it read ahead (one query a batch).
        assert asyncio.run(go(shared=False)) is None
        assert stub.calls == 3


# PostgreSQL only: SQLite has one writer at a time, so a claim waits for the write lock.
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_claims_skip_cells_another_claim_holds_locked(
    engine: EngineChoice, demo_paths: WorkspacePaths
) -> None:
    assert engine.is_postgres
    with lab_workspace(demo_paths, "http://127.0.0.1:9/v1", 20) as workspace:
        uid = queue(workspace)
        ids = [r.id for r in cell_rows(workspace, uid)]
        now, cutoff = utcnow(), utcnow() - timedelta(seconds=30)
        with workspace.session() as session:
            run_id = session.execute(text("SELECT id FROM run WHERE uid = :u"), {"u": uid}).scalar()
            a = leases_repo.open_lease(session, run_id, 1, "a", now)
            b = leases_repo.open_lease(session, run_id, 2, "b", now)
        with session_scope(workspace.engine) as holding:  # a claim not yet committed
            first = leases_repo.claim_cells(holding, run_id, a, ids[:10], cutoff)
            with session_scope(workspace.engine) as other:
                other.execute(text("SET LOCAL lock_timeout = '5s'"))
                second = leases_repo.claim_cells(other, run_id, b, ids, cutoff)
        assert first == set(ids[:10])
        assert second == set(ids[10:])  # at once: the locked rows skipped, not waited for


def test_m015_indexes_the_pending_cells(engine: EngineChoice, tmp_path: Path) -> None:
    from promptdeck.store.migrations import migrate

    target = blank_target(engine, tmp_path)
    migrate(target)
    db = connect(target)
    if db.dialect == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_run_cell_pending'"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_run_cell_pending'"
    found = db.execute(sql).fetchone()
    assert found is not None and "pending" in found[0] and "WHERE" in found[0].upper()

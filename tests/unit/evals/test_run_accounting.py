"""Every cell of a run accounted for: alike cases, leases, claims, kept answers, refusals."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from promptdeck.core.evals import cells as cells_module
from promptdeck.core.evals import leases
from promptdeck.core.evals.leases import run_states
from promptdeck.core.evals.runner import EvalRunner, RunOutcome, plan_suite
from promptdeck.core.evals.stored import run_report
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import CacheMode, Gateway
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import RuntimeFailureError
from promptdeck.store.tables import Run, RunCell, RunLease
from promptdeck.timeutil import utcnow

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL

ALIKE = """\
prompts: [classify-ticket]
concurrency: 4
repeat: {repeat}
cases:
  - description: the label
    vars: {{ticket: I was charged twice}}
    expected: billing
    assert: [{{type: equals}}]
  - description: short enough
    vars: {{ticket: I was charged twice}}
    expected: billing
    assert: [{{type: max-length, value: 3}}]
  - vars: {{ticket: I was charged twice}}
    expected: billing
    assert: [{{type: max-length, value: 3}}]
"""


def label(request: ChatRequest) -> str:
    return "billing" if "charged" in request.messages[-1]["content"] else "technical"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default=label, delay=0.02)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def write(workspace: Workspace, name: str, text: str) -> None:
    (workspace.paths.suites / f"{name}.suite.yaml").write_text(text)


def many(workspace: Workspace, n: int, concurrency: int = 4, asserts: bool = True) -> None:
    rows = "\n".join(json.dumps({"vars": {"ticket": f"ticket {i}"}}) for i in range(n))
    (workspace.paths.datasets / "many.jsonl").write_text(rows + "\n")
    defaults = "defaults:\n  assert: [{type: icontains, value: tech}]\n" if asserts else ""
    write(
        workspace,
        "many",
        f"prompts: [classify-ticket]\nconcurrency: {concurrency}\n{defaults}"
        "cases:\n  - dataset: datasets/many.jsonl\n",
    )


def run_suite(
    workspace: Workspace,
    name: str,
    *,
    resume: str | None = None,
    cache: CacheMode = "read",
    **kwargs: object,
) -> RunOutcome:
    async def go() -> RunOutcome:
        gateway = Gateway.for_workspace(workspace)
        try:
            runner = EvalRunner(workspace, gateway, cache=cache, **kwargs)  # type: ignore[arg-type]
            if resume:
                return await runner.resume(resume)
            return await runner.run(plan_suite(workspace, name))
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def cells_of(workspace: Workspace, uid: str) -> list[RunCell]:
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == uid)).one()
        return list(session.exec(select(RunCell).where(RunCell.run_id == run.id)))


def only_run(workspace: Workspace) -> Run:
    with workspace.session() as session:
        return session.exec(select(Run)).one()


# -- alike cases --------------------------------------------------------------------------


@pytest.mark.parametrize("cache", ["read", "write"])
def test_alike_cases_share_one_call_and_are_graded_and_stored_apart(
    workspace: Workspace, fake: FakeProvider, cache: CacheMode
) -> None:
    workspace.sync()
    write(workspace, "alike", ALIKE.format(repeat=1))
    outcome = run_suite(workspace, "alike", cache=cache)
    assert outcome.status == "finished"
    assert len(fake.requests) == 1  # one rendered request, asked once
    assert len({c.case_key for c in outcome.cells}) == 3
    assert [c.status for c in sorted(outcome.cells, key=lambda c: c.case_index)] == [
        "pass",
        "fail",
        "fail",
    ]
    stored = cells_of(workspace, outcome.run_uid)
    assert len(stored) == 3 and all(c.status == "done" for c in stored)
    # Paid for once: the cells that shared the call cost nothing more.
    assert sum(1 for c in stored if c.cost_usd == 0) >= 2


def test_alike_cases_repeat_independently(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write(workspace, "alike", ALIKE.format(repeat=2))
    outcome = run_suite(workspace, "alike", cache="write")
    assert len(outcome.cells) == 6 and len(fake.requests) == 2  # one call per repeat
    rerun = run_suite(workspace, "alike")
    assert len(fake.requests) == 2 and {c.source for c in rerun.cells} == {"cached"}


def test_a_prompt_or_model_listed_twice_runs_once(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write(
        workspace,
        "twice",
        "prompts: [classify-ticket, classify-ticket@latest]\nmodels: [smol, smol]\ncases:\n"
        "  - vars: {ticket: I was charged twice}\n    assert: [{type: equals, value: billing}]\n",
    )
    outcome = run_suite(workspace, "twice")
    assert outcome.status == "finished" and len(outcome.cells) == 1


# -- leases and states --------------------------------------------------------------------


def test_a_run_whose_process_died_shows_as_interrupted(
    workspace: Workspace, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.sync()
    many(workspace, 6)
    outcome = run_suite(workspace, "many")
    # Make it look killed midway: two cells pending, running, held by a process that is gone.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == outcome.run_uid)).one()
        for cell in session.exec(select(RunCell).where(RunCell.run_id == run.id)).all()[:2]:
            cell.status = "pending"
            session.add(cell)
        run.status = "running"
        session.add(run)
        lease = RunLease(run_id=run.id or 0, pid=int(gone.stdout), host=leases._host())
        session.add(lease)
    with workspace.session() as session:
        state = run_states(session, [only_run(workspace)])[run.id or 0]
    assert state.label == "interrupted (4 of 6 cells)"
    summary, _ = run_report(workspace, outcome.run_uid)
    assert summary.state == "interrupted (4 of 6 cells)" and summary.incomplete
    # A live process elsewhere: running until its heartbeat is older than the lease.
    with workspace.session() as session:
        lease_row = session.exec(select(RunLease).order_by(col(RunLease.id).desc())).first()
        assert lease_row is not None
        lease_row.host = "another-host"
        session.add(lease_row)
    with workspace.session() as session:
        assert run_states(session, [only_run(workspace)])[run.id or 0].status == "running"
    later = utcnow() + timedelta(seconds=leases.LEASE_SECONDS + 1)
    monkeypatch.setattr(leases, "utcnow", lambda: later)
    with workspace.session() as session:
        assert run_states(session, [only_run(workspace)])[run.id or 0].status == "interrupted"


def test_a_finished_run_ends_its_lease(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    many(workspace, 3)
    outcome = run_suite(workspace, "many")
    with workspace.session() as session:
        (lease,) = session.exec(select(RunLease)).all()
        state = run_states(session, [only_run(workspace)])
    assert lease.ended_at is not None and lease.pid > 0
    assert state[lease.run_id].label == "finished"
    summary, _ = run_report(workspace, outcome.run_uid)
    assert summary.started_at is not None and summary.finished_at is not None
    assert summary.finished_at >= summary.started_at and not summary.incomplete


def test_a_max_cost_refusal_leaves_no_running_run(workspace: Workspace, fake: FakeProvider) -> None:
    config = workspace.paths.config
    config.write_text(
        config.read_text()
        + '\n[models.pricey]\nmodel = "openai/pricey"\napi_key_env = "PRICEY_KEY"\n'
        + "input_cost_per_token = 0.01\noutput_cost_per_token = 0.01\n"
    )
    reopened = Workspace.open(workspace.paths)
    try:
        reopened.sync()
        write(reopened, "pricey", ALIKE.format(repeat=1) + "models: [pricey]\n")
        with pytest.raises(RuntimeFailureError, match="over --max-cost"):
            run_suite(reopened, "pricey", max_cost=0.0001)
        assert fake.requests == []
        run = only_run(reopened)
        with reopened.session() as session:
            state = run_states(session, [run])[run.id or 0]
        assert run.status == "refused" and state.label == "refused (0 of 3 cells)"
        assert run.summary["stopped"] and "max-cost" in run.summary["stopped"]
        resumed = run_suite(reopened, "pricey", resume=run.uid, max_cost=100.0)
        assert resumed.status == "finished" and len(fake.requests) == 1
    finally:
        reopened.close()


# -- interrupted, then resumed ------------------------------------------------------------


class GradeGate:
    """Wraps the grader: counts the cells that reach grading, and can hold them there."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, hold: bool) -> None:
        self.real = cells_module.a_grade_case
        self.hold = hold
        self.entered = 0
        self.reached: dict[int, asyncio.Event] = {}
        monkeypatch.setattr(cells_module, "a_grade_case", self.grade)

    async def grade(self, *args: object, **kwargs: object) -> object:
        self.entered += 1
        for count, event in self.reached.items():
            if self.entered >= count:
                event.set()
        if self.hold:
            await asyncio.Event().wait()  # a judge that never answers
        return await self.real(*args, **kwargs)  # type: ignore[arg-type]

    def cancel_when(self, count: int, task: asyncio.Task[RunOutcome]) -> None:
        """Cancel ``task`` once ``count`` cells have reached grading (their answers arrived)."""
        event = self.reached[count] = asyncio.Event()

        async def watch() -> None:
            await event.wait()
            task.cancel()

        asyncio.get_running_loop().create_task(watch())


def interrupted_run(workspace: Workspace, gate: GradeGate, after: int, *, flush: bool) -> None:
    """Start a run of suite ``many`` and cancel it once ``after`` answers were graded."""

    async def first() -> None:
        gateway = Gateway.for_workspace(workspace)
        try:
            runner = EvalRunner(workspace, gateway, cache="write")
            task = asyncio.create_task(runner.run(plan_suite(workspace, "many")))
            gate.cancel_when(after, task)
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            if flush:
                await gateway.aclose()
            # else: like a killed process, its gateway's buffered records are lost

    asyncio.run(first())


def test_answers_that_arrived_before_an_interruption_are_not_paid_for_again(
    workspace: Workspace, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while grading (a slow judge): the resume grades the stored answers."""
    workspace.sync()
    many(workspace, 24)
    gate = GradeGate(monkeypatch, hold=True)
    interrupted_run(workspace, gate, 4, flush=False)  # four calls at once: all answered
    asked = len(fake.requests)
    assert asked == 4
    run = only_run(workspace)
    assert run.status == "interrupted"
    answered = [c for c in cells_of(workspace, run.uid) if c.output is not None]
    assert len(answered) == asked and all(c.status == "pending" for c in answered)
    gate.hold = False
    resumed = run_suite(workspace, "many", resume=run.uid, cache="write")
    assert resumed.status == "finished" and len(resumed.cells) == 24
    assert len(fake.requests) == 24  # every cell called exactly once in all


def test_a_cancelled_run_keeps_its_answers_and_is_resumable(
    workspace: Workspace, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.sync()
    many(workspace, 30)
    gate = GradeGate(monkeypatch, hold=False)
    interrupted_run(workspace, gate, 10, flush=True)
    run = only_run(workspace)
    with workspace.session() as session:
        state = run_states(session, [run])[run.id or 0]
        lease = session.exec(select(RunLease)).one()
    assert run.status == "interrupted" and lease.ended_at is not None
    assert state.label == f"interrupted ({state.done} of 30 cells)" and state.done >= 10
    resumed = run_suite(workspace, "many", resume=run.uid, cache="write")
    assert resumed.status == "finished" and len(fake.requests) == 30


def test_two_resumers_at_once_split_the_pending_cells(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.sync()
    many(workspace, 40, concurrency=3)
    outcome = run_suite(workspace, "many")
    assert len(fake.requests) == 40
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == outcome.run_uid)).one()
        for cell in session.exec(select(RunCell).where(RunCell.run_id == run.id)).all():
            cell.status, cell.output, cell.score, cell.passed = "pending", None, None, None
            session.add(cell)
        run.status = "interrupted"
        session.add(run)
    outcomes: list[RunOutcome] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def resume() -> None:
        try:
            start.wait()
            # --no-cache: only claims keep the two from calling the same cells
            outcomes.append(run_suite(workspace, "many", resume=outcome.run_uid, cache="write"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(fake.requests) == 80  # 40 for the first run, 40 between both resumers
    assert {o.status for o in outcomes} <= {"finished", "running"}
    assert any(o.status == "finished" for o in outcomes)
    stored = cells_of(workspace, outcome.run_uid)
    assert all(c.status == "done" for c in stored)
    assert only_run(workspace).status == "finished"


# -- cases without assertions -------------------------------------------------------------


def test_a_case_without_assertions_is_reported_as_such(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.sync()
    many(workspace, 3, asserts=False)
    outcome = run_suite(workspace, "many")
    assert [c.status for c in outcome.cells] == ["no assertions"] * 3
    summary = outcome.summary
    assert (summary.passed, summary.failed, summary.unchecked) == (0, 0, 3)
    assert not summary.ok
    again = [c.status for c in run_report(workspace, outcome.run_uid)[1]]
    assert again == ["no assertions"] * 3
    run = only_run(workspace)
    assert (run.passed, run.failed, run.summary["counts"]["unchecked"]) == (0, 0, 3)

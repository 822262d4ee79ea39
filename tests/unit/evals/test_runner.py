"""The eval runner with a fake provider: cells, grading, cache reuse, errors as values, cost cap."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from promptdeck.core.evals.compare import bless, compare_runs
from promptdeck.core.evals.runner import EvalRunner, RunOutcome, plan_suite
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.providers.base import ChatRequest, ErrorKind, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, RuntimeFailureError
from promptdeck.store.tables import Run, RunCell

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL

SUITE = """\
prompts: [classify-ticket]
concurrency: 4
repeat: {repeat}
cases:
  - description: double charge
    vars: {{ticket: I was charged twice}}
    expected: billing
    assert:
      - type: equals
  - description: login
    vars: {{ticket: I cannot sign in}}
    expected: account
    assert:
      - type: {assertion}
"""


def label(request: ChatRequest) -> str:
    ticket = request.messages[-1]["content"]
    return "billing" if "charged" in ticket else "technical"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default=label)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def write_suite(workspace: Workspace, repeat: int = 1, assertion: str = "equals") -> None:
    (workspace.paths.suites / "mini.suite.yaml").write_text(
        SUITE.format(repeat=repeat, assertion=assertion)
    )


def run_suite(workspace: Workspace, resume: str | None = None, **kwargs: object) -> RunOutcome:
    async def go() -> RunOutcome:
        gateway = Gateway.for_workspace(workspace)
        try:
            runner = EvalRunner(workspace, gateway, **kwargs)  # type: ignore[arg-type]
            if resume:
                return await runner.resume(resume)
            return await runner.run(plan_suite(workspace, "mini"))
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def test_cells_are_graded_and_stored(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write_suite(workspace, repeat=2)
    outcome = run_suite(workspace)
    assert outcome.status == "finished"
    assert len(outcome.cells) == 4 and len(fake.requests) == 4
    assert sorted(c.status for c in outcome.cells) == ["fail", "fail", "pass", "pass"]
    assert outcome.summary.passed == 2 and outcome.summary.failed == 2
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == outcome.run_uid)).one()
        cells = session.exec(select(RunCell).where(RunCell.run_id == run.id)).all()
    assert (run.status, run.passed, run.failed, run.errors) == ("finished", 2, 2, 0)
    assert all(c.status == "done" and c.trace_uid and c.output for c in cells)
    # Each repeat is an independent sample: 2 distinct requests per case.
    assert {c.repeat for c in cells} == {0, 1}


def test_a_rerun_comes_from_the_cache_and_keeps_its_grades(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.sync()
    write_suite(workspace)
    run_suite(workspace)
    again = run_suite(workspace)
    assert len(fake.requests) == 2
    assert {c.source for c in again.cells} == {"cached"}
    # Change an assertion: same answers from the cache, graded anew.
    write_suite(workspace, assertion="icontains")
    regraded = run_suite(workspace)
    assert len(fake.requests) == 2
    by_case = {c.case_index: c for c in regraded.cells}
    assert by_case[0].source == "cached" and by_case[1].source == "regraded"


def test_failed_calls_are_cells_with_errors(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write_suite(workspace)
    fake.script = [ProviderError(ErrorKind.SERVER, "HTTP 500 from the server")] * 8
    outcome = run_suite(workspace)
    statuses = {c.case_index: c.status for c in outcome.cells}
    assert list(statuses.values()).count("error") >= 1
    errored = next(c for c in outcome.cells if c.status == "error")
    assert errored.error and "500" in errored.error and errored.output is None


def test_a_suite_that_does_not_validate_makes_no_call(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.sync()
    write_suite(workspace, assertion="icontain")
    with pytest.raises(ConfigError, match=r"mini\.suite\.yaml:\d+.*icontain"):
        plan_suite(workspace, "mini")
    (workspace.paths.suites / "mini.suite.yaml").write_text(
        "prompts: [classify-ticket]\ncases:\n  - vars: {tickt: x}\n"
    )
    with pytest.raises(ConfigError, match=r"mini\.suite\.yaml:3: .*ticket"):
        plan_suite(workspace, "mini")
    assert fake.requests == []


def test_max_cost_refuses_to_start(workspace: Workspace, fake: FakeProvider) -> None:
    config = workspace.paths.config
    config.write_text(
        config.read_text()
        + '\n[models.pricey]\nmodel = "openai/pricey"\napi_key_env = "PRICEY_KEY"\n'
        + "input_cost_per_token = 0.01\noutput_cost_per_token = 0.01\n"
    )
    reopened = Workspace.open(workspace.paths)
    reopened.sync()
    (reopened.paths.suites / "mini.suite.yaml").write_text(
        SUITE.format(repeat=1, assertion="equals").replace(
            "concurrency: 4", "concurrency: 4\nmodels: [pricey]"
        )
    )
    with pytest.raises(RuntimeFailureError, match=r"estimated cost \$[0-9.]+ is over --max-cost"):
        run_suite(reopened, max_cost=0.0001)
    assert fake.requests == []
    reopened.close()


def test_resume_finishes_only_the_pending_cells(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write_suite(workspace, repeat=3)
    outcome = run_suite(workspace)
    assert len(fake.requests) == 6
    # Simulate a kill: put two finished cells back to pending, mark the run running.
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == outcome.run_uid)).one()
        cells = session.exec(select(RunCell).where(RunCell.run_id == run.id)).all()
        for cell in cells[:2]:
            cell.status = "pending"
            session.add(cell)
        run.status = "running"
        session.add(run)
    resumed = run_suite(workspace, resume=outcome.run_uid)
    assert resumed.status == "finished" and len(resumed.cells) == 6
    assert len(fake.requests) == 6  # the two redone cells came from the cache


def test_compare_and_bless(workspace: Workspace, fake: FakeProvider) -> None:
    workspace.sync()
    write_suite(workspace)
    first = run_suite(workspace)
    bless(workspace, first.run_uid)
    fake.default = lambda r: "other"
    write_suite(workspace)
    second = run_suite(workspace, cache="write")
    result = compare_runs(workspace, first.run_uid, second.run_uid)
    assert [k[2] for k in result.regressions] and result.improvements == []
    assert result.test is not None and not result.test.significant


def test_a_rerun_looks_up_the_cache_and_grades_in_bulk(
    workspace: Workspace, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No per-cell look-up on the event loop: each batch of cells costs two queries."""
    from promptdeck.core.evals import runner
    from promptdeck.store import cache_repo, runs_repo

    workspace.sync()
    write_suite(workspace, repeat=3)
    run_suite(workspace)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a single-key look-up was made")

    monkeypatch.setattr(cache_repo, "find_exact", refuse)
    bulk: list[int] = []
    many = runs_repo.previous_grades_many
    monkeypatch.setattr(
        runs_repo,
        "previous_grades_many",
        lambda s, wanted: bulk.append(len(wanted)) or many(s, wanted),
    )
    # Specs rendered for the estimate are kept for 2 cells only: the rest render per batch.
    monkeypatch.setattr(runner, "KEEP_RENDERED", 2)
    again = run_suite(workspace)
    assert len(fake.requests) == 6
    assert [c.source for c in again.cells] == ["cached"] * 6
    assert bulk == [6]
    assert [c.passed for c in again.cells] == [True] * 3 + [False] * 3


def test_a_fresh_runs_results_are_what_reads_back_from_the_database(
    workspace: Workspace, fake: FakeProvider
) -> None:
    """A fresh run keeps its results as it stores them instead of reading them back."""
    from promptdeck.core.evals.runner import run_results

    def login_fails(request: ChatRequest) -> str:
        if "sign in" in request.messages[-1]["content"]:
            raise ProviderError(ErrorKind.AUTH, "HTTP 401 from the server")
        return label(request)

    workspace.sync()
    fake.default = login_fails
    write_suite(workspace, repeat=2)
    outcomes = [run_suite(workspace)]  # errors and passes
    fake.default = label
    for assertion in ("icontains", "contains"):  # fresh and cached, then regraded
        write_suite(workspace, repeat=2, assertion=assertion)
        outcomes.append(run_suite(workspace))
    for outcome in outcomes:
        assert outcome.cells == list(run_results(workspace, outcome.run_uid))
    assert {c.status for c in outcomes[0].cells} == {"error", "pass"}
    assert {c.source for c in outcomes[1].cells} == {"cached", "fresh"}
    assert {c.source for c in outcomes[2].cells} == {"cached", "regraded"}


def test_a_big_runs_results_are_streamed_back_and_the_same(
    workspace: Workspace, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past KEEP_RESULTS cells a run holds no results: its outcome reads them back when
    used, and its summary and cells are the ones a kept run gives."""
    from promptdeck.core.evals import runner
    from promptdeck.core.evals.stored import run_report
    from promptdeck.core.evals.stored_cells import StoredCells

    workspace.sync()
    fake.default = label
    write_suite(workspace, repeat=2)
    kept = run_suite(workspace, cache="write")
    monkeypatch.setattr(runner, "KEEP_RESULTS", 3)
    streamed = run_suite(workspace, cache="write")
    assert isinstance(streamed.cells, StoredCells) and not isinstance(kept.cells, StoredCells)
    assert len(streamed.cells) == len(kept.cells) == kept.summary.cells == 4
    assert streamed.cells == list(runner.run_results(workspace, streamed.run_uid))
    assert list(streamed.cells) == list(streamed.cells)  # iterated twice: read twice
    same = ("prompt", "model", "case_key", "repeat", "status", "output", "scores")
    assert [[getattr(c, f) for f in same] for c in streamed.cells] == [
        [getattr(c, f) for f in same] for c in kept.cells
    ]
    assert streamed.cells[-1] == list(streamed.cells)[-1]
    summary = run_report(workspace, streamed.run_uid)[0]
    assert streamed.summary == summary
    assert (streamed.summary.cells, streamed.summary.passed) == (
        kept.summary.cells,
        kept.summary.passed,
    )

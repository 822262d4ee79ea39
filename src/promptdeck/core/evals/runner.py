"""Run eval suites: prompts × models × cases × repeats through the gateway.

A run is planned first (:mod:`promptdeck.core.evals.plan`), with every problem found
before any model call: the suite validates, every assertion validates, every prompt
renders for every case. Then all its cells are stored as ``pending`` and worked
through in id order with bounded memory: concurrent gateway calls, each graded as it
finishes (:mod:`~promptdeck.core.evals.cells`), written as they come
(:mod:`~promptdeck.core.evals.writer`).

The process running a run holds a lease on it (:mod:`~promptdeck.core.evals.leases`)
and claims each pending cell before calling it, so processes resuming one run share
its cells out and no cell is called twice. A run killed at any point leaves a
consistent database (finished cells stay finished, answers that arrived are kept, the
rest stay pending), shows as interrupted once its lease is dead, and ``resume``
finishes it without paying again for what was answered. Errors are values: a failed
call is a cell with an error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from promptdeck.core.evals.batches import CellPlanner
from promptdeck.core.evals.case_grading import grade_across_outputs
from promptdeck.core.evals.case_stream import CaseCursor
from promptdeck.core.evals.cells import CellJob, CellWork, SharedCalls
from promptdeck.core.evals.events import (
    CellFinished,
    Progress,
    Reporter,
    RunFinished,
    RunOutcome,
    RunStarted,
)
from promptdeck.core.evals.judge import make_judge
from promptdeck.core.evals.leases import Lease
from promptdeck.core.evals.plan import SuitePlan, plan_suite, plan_suites, scoring_options
from promptdeck.core.evals.queue import create_run
from promptdeck.core.evals.results import CellResult, counts_summary, summarize
from promptdeck.core.evals.stored import run_results, stored_result
from promptdeck.core.evals.writer import CellWriter
from promptdeck.core.gateway.engine import CacheMode, Gateway
from promptdeck.core.scorers import judge_warning
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, RuntimeFailureError
from promptdeck.store import leases_repo, runs_repo
from promptdeck.store.runs_repo import CellWrite, PendingCell
from promptdeck.store.tables import Run

# The run API in one place: the runner, and the planning, events and stored results it
# works with (defined in their own modules).
__all__ = [
    "CellFinished",
    "EvalRunner",
    "Reporter",
    "RunFinished",
    "RunOutcome",
    "RunStarted",
    "SuitePlan",
    "plan_suite",
    "plan_suites",
    "run_results",
]

BATCH = 500
"""Pending cells read, rendered and looked up in the cache together."""
KEEP_RENDERED = 5000
"""Cells whose specs rendered for the estimate are kept for the run (bounds memory)."""
_DRAINED = "the worker is leaving: its cells in hand are done, the rest wait in the queue"
KEEP_RESULTS = 5000
"""A run of at most this many cells keeps its results as it stores them; a bigger one
streams them back from the database when they are used (bounds memory)."""


class EvalRunner:
    """Runs planned suites through one gateway, reporting progress to a reporter.

    A worker passes ``drain`` (set: finish the cells claimed and in hand, claim no
    more, and hand the run back to the queue) and ``shared`` (other processes answer
    the same requests meanwhile: every batch looks all its keys up in the cache).
    """

    def __init__(
        self,
        workspace: Workspace,
        gateway: Gateway,
        reporter: Reporter | None = None,
        *,
        max_cost: float | None = None,
        cache: CacheMode = "read",
        concurrency: int | None = None,
        drain: asyncio.Event | None = None,
        shared: bool = False,
    ) -> None:
        self.workspace = workspace
        self.drain = drain
        self.gateway = gateway
        self.reporter = reporter
        self.max_cost = max_cost if max_cost is not None else workspace.config.evals.max_cost
        self.cache: CacheMode = cache
        self.concurrency = concurrency
        self.planner = CellPlanner(workspace, gateway, cache, shared=shared)

    # -- running ------------------------------------------------------------------------

    async def run(self, plan: SuitePlan) -> RunOutcome:
        """Create a run for the plan and carry it out."""
        return await self._execute(plan, create_run(self.workspace, plan))

    async def resume(self, uid: str) -> RunOutcome:
        """Finish an interrupted run without redoing its finished cells.

        A run another process is still running can be resumed too: the two share out
        its pending cells.
        """
        with self.workspace.session() as session:
            run = runs_repo.get_run(session, uid)
            if run is None:
                raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
            if run.status == "finished":
                raise ConfigError(f"run {run.uid} is already finished", "start a new run instead")
            config = dict(run.config)
            full = run.uid
        refs = config.get("prompt_refs")
        plan = (
            plan_suite(self.workspace, str(config["suite"]), refs=list(refs))
            if refs
            else plan_suite(self.workspace, str(config["suite"]), versions=dict(config["prompts"]))
        )
        return await self._execute(plan, full)

    async def _execute(self, plan: SuitePlan, uid: str) -> RunOutcome:
        workspace = self.workspace
        with workspace.session() as session:
            run = runs_repo.get_run(session, uid)
            assert run is not None and run.id is not None
            run_id = run.id
            lease = Lease(workspace, run_id)
            lease.acquire(session)
            run.status = "running"
            session.add(run)
            counts = runs_repo.cell_counts(session, run_id)
        writer = CellWriter(self._write)
        tasks: set[asyncio.Task[None]] = set()
        try:
            lease.start()
            return await self._work(plan, uid, run_id, lease, writer, counts, tasks)
        except BaseException as exc:  # interrupted (Ctrl+C, cancelled), refused, or crashed
            try:
                for task in tasks:
                    task.cancel()
                if tasks:
                    await asyncio.shield(asyncio.gather(*tasks, return_exceptions=True))
            finally:  # even when interrupted again meanwhile
                writer.flush_now()  # every answer that arrived is kept
                if not isinstance(exc, _Refused):
                    self._interrupted(run_id, lease, exc)
            if isinstance(exc, _Refused):
                raise exc.error from None
            raise
        finally:
            writer.close()

    async def _work(
        self,
        plan: SuitePlan,
        uid: str,
        run_id: int,
        lease: Lease,
        writer: CellWriter,
        counts: dict[str, int],
        tasks: set[asyncio.Task[None]],
    ) -> RunOutcome:
        workspace = self.workspace
        cases = CaseCursor(plan.suite.cases)  # read forward as cells need them, not held
        prompts = {p.version_id: p for p in plan.prompts}
        threshold = plan.suite.file.threshold
        judge = (
            make_judge(self.gateway, plan.judge, run_id=run_id, state_dir=workspace.paths.state)
            if plan.judge
            else None
        )
        ahead = self.planner.count_ahead(
            plan, run_id, prompts, cases, lease.free_since(), KEEP_RENDERED
        )
        estimate = ahead.cost
        error: RuntimeFailureError | None = None
        if self.max_cost is not None and estimate.unpriced:
            error = RuntimeFailureError(
                f"suite {plan.name!r}: no price is known for {', '.join(estimate.unpriced)}, "
                f"so --max-cost ${self.max_cost:.4f} cannot be kept; nothing was called",
                "give it a price (an alias with input_cost_per_token and output_cost_per_token "
                "in promptdeck.toml; 0 for a free server), or drop --max-cost",
            )
        elif self.max_cost is not None and estimate.cost_usd > self.max_cost:
            error = RuntimeFailureError(
                f"suite {plan.name!r}: estimated cost ${estimate.cost_usd:.4f} is over --max-cost "
                f"${self.max_cost:.4f}; nothing was called",
                "raise --max-cost, or run fewer cases or cheaper models",
            )
        if error is not None:
            lease.close_run("refused", error.title)
            raise _Refused(error)
        warning = judge_warning(plan.judge) if plan.judge else None
        if self.reporter:
            self.reporter.started(
                RunStarted(
                    uid,
                    plan.name,
                    counts["total"],
                    ahead.free,
                    ahead.cached,
                    estimate.cost_usd,
                    warning,
                    tuple(estimate.unpriced),
                )
            )
        state = Progress(
            total=counts["total"],
            done=counts["total"] - counts["pending"],
            passed=counts["passed"],
            failed=counts["failed"],
            errors=counts["errors"],
            unchecked=counts["unchecked"],
            cost=counts["cost_micro"] / 1_000_000,
        )
        work = CellWork(
            plan.name,
            SharedCalls(self.gateway, ahead.uses),
            writer,
            threshold,
            plan.judge,
            judge,
            scoring_options(workspace),
            self.planner.previous_many,
            self.planner.answer_facts,
        )
        # A run that starts with nothing finished keeps its results as it stores them
        # (built as they read back), so its end does not read every cell back.
        finished: list[tuple[int, CellResult]] | None = (
            []
            if counts["pending"] == counts["total"] <= KEEP_RESULTS and not self.planner.shared
            else None
        )
        concurrency = self.concurrency or plan.suite.file.concurrency or 8
        limit = asyncio.Semaphore(concurrency)
        # Claims small enough to share a run's cells out between resumers, big enough to
        # cost little: an eighth of the run, at least four rounds of calls, at most a batch.
        claim_size = min(BATCH, max(4 * concurrency, -(-ahead.free // 8)))
        stopped: str | None = None
        started = time.monotonic()

        async def do(cell: PendingCell, job: CellJob | None) -> None:
            nonlocal stopped, finished
            try:
                if job is None:
                    case = cases.get(cell.case_key, cell.case_index)
                    result, write = work.orphan(cell, [case] if case else [])
                else:
                    result, write = await work.run(cell, job)
                writer.put(write)
                if finished is not None and job is not None:
                    prompt = f"{job.prompt.name}@{job.prompt.version}"
                    kept = stored_result(plan.name, prompt, cell, write, write.scores)
                    finished.append((cell.id, kept))
                elif finished is not None:
                    finished = None  # an orphaned cell: read the run back instead
                state.add(result)
                if self.reporter:
                    self.reporter.cell(state.event(result, time.monotonic() - started))
                if self.max_cost is not None and state.cost >= self.max_cost and stopped is None:
                    stopped = f"cost reached --max-cost ${self.max_cost:.4f}"
            finally:
                limit.release()

        def claim(chunk: Sequence[PendingCell]) -> asyncio.Future[set[int]]:
            return asyncio.ensure_future(asyncio.to_thread(self._claim, lease, chunk))

        async def read_ahead(after: int) -> _Batch:
            """The next pending cells free to take, made ready, their first chunk claimed."""
            with workspace.session() as session:
                cells = runs_repo.pending_cells(session, run_id, after, BATCH, lease.free_since())
            if not cells:
                return _Batch([], {}, [])
            jobs = await self.planner.prepare(plan, cells, ahead, prompts, cases, work)
            chunks = [cells[i : i + claim_size] for i in range(0, len(cells), claim_size)]
            return _Batch(chunks, jobs, [claim(chunks[0])])

        # Each batch is read, rendered and its first cells claimed while the one before
        # is called; each chunk of cells is claimed while the chunk before is called.
        upcoming = asyncio.ensure_future(read_ahead(0))
        try:
            after = 0
            while stopped is None:
                batch = await upcoming
                if not batch.chunks:
                    if after == 0:
                        break
                    after = 0  # once more from the start: cells a dead process gave back
                    upcoming = asyncio.ensure_future(read_ahead(0))
                    continue
                after = batch.chunks[-1][-1].id
                upcoming = asyncio.ensure_future(read_ahead(after))
                for n, chunk in enumerate(batch.chunks):
                    if self.drain is not None and self.drain.is_set():
                        stopped = _DRAINED  # the cells in hand are done: leave
                        break
                    mine = await batch.claims[n]
                    if n + 1 < len(batch.chunks):
                        batch.claims.append(claim(batch.chunks[n + 1]))
                    for cell in chunk:
                        if cell.id not in mine:
                            continue  # another process took it
                        await limit.acquire()
                        if stopped is not None:
                            limit.release()
                            break
                        task = asyncio.create_task(do(cell, batch.jobs.get(cell.id)))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    if stopped is not None:
                        break
        finally:
            upcoming.cancel()  # cells it claimed go back when the lease ends
        if tasks:
            await asyncio.gather(*tasks)
        await writer.flush()
        if stopped is None and await grade_across_outputs(
            workspace, run_id, plan.suite.cases, threshold=threshold, judge=judge, writer=writer
        ):
            await writer.flush()
            finished = None  # cells changed since they were kept: read them back
        await self.gateway.flush()
        await lease.stop()
        kept = None
        if finished is not None and len(finished) == counts["total"]:
            kept = [r for _, r in sorted(finished, key=lambda item: item[0])]
        status = "finished" if stopped is None else "queued" if stopped == _DRAINED else "stopped"
        return self._finish_run(run_id, status, stopped, plan.judge, lease, kept)

    def _claim(self, lease: Lease, cells: Sequence[PendingCell]) -> set[int]:
        assert lease.id is not None
        with self.workspace.session() as session:
            ids = [cell.id for cell in cells]
            return leases_repo.claim_cells(session, lease.run_id, lease.id, ids, lease.free_since())

    def _write(self, batch: list[CellWrite]) -> None:
        if batch:
            with self.workspace.session() as session:
                runs_repo.write_cells(session, batch)

    # -- ending ---------------------------------------------------------------------------

    def _interrupted(self, run_id: int, lease: Lease, exc: BaseException) -> None:
        """Mark the run interrupted (resumable) and report what it got done, from counts."""
        cancelled = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
        reason = "interrupted" if cancelled else f"{type(exc).__name__}: {exc}"
        counts = lease.close_run("interrupted", reason)
        if self.reporter:
            with self.workspace.session() as session:
                run = session.get(Run, run_id)
                assert run is not None
                uid, status = run.uid, run.status
            summary = counts_summary(counts, run_id=uid, status=status)
            self.reporter.finished(RunFinished(uid, status, summary))

    def _finish_run(
        self,
        run_id: int,
        status: str,
        reason: str | None,
        judge: str | None,
        lease: Lease,
        cells: Sequence[CellResult] | None = None,
    ) -> RunOutcome:
        """Close the run's row; report and return its results.

        Args:
            run_id: The run's row id.
            status: How it ended (``finished``, ``stopped``).
            reason: Why it stopped early, if it did.
            judge: The judge model of its model-graded assertions, if any.
            lease: This process's lease on the run (released here).
            cells: Every finished cell as stored, when the caller kept them (in cell
                order); None: read them back from the database.
        """
        counts = lease.close_run(status, reason)
        with self.workspace.session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            uid, status, total = run.uid, run.status, run.total_cells
            started_at, finished_at = run.started_at, run.finished_at
        if status == "running":
            reason = "its other cells are being run by another process"
        if self.planner.shared and cells is None:  # a worker: counts, not every cell read back
            outcome = RunOutcome(uid, status, counts_summary(counts, run_id=uid, status=status))
            outcome.stopped_reason = reason
            if self.reporter:
                self.reporter.finished(RunFinished(uid, status, outcome.summary))
            return outcome
        summary = summarize(
            self.results(uid) if cells is None else cells,  # streamed: one pass
            run_id=uid,
            judge=judge,
            started_at=started_at,
            finished_at=finished_at,
            status=status,
            total_cells=total,
        )
        if cells is None:
            from promptdeck.core.evals.stored_cells import StoredCells

            cells = StoredCells(self.workspace, uid, summary.cells)
        outcome = RunOutcome(uid, status, summary, cells, reason)
        if self.reporter:
            self.reporter.finished(RunFinished(uid, status, summary))
        return outcome

    def results(self, uid: str) -> Iterator[CellResult]:
        """Yield a run's finished cells as result records (streamed from the database)."""
        return run_results(self.workspace, uid)


@dataclass
class _Batch:
    """Pending cells read ahead: in chunks to claim, their jobs, the claims made so far."""

    chunks: list[list[PendingCell]]
    jobs: dict[int, CellJob]
    claims: list[asyncio.Future[set[int]]]


class _Refused(Exception):
    """The run would cost more than allowed: it was refused before any call."""

    def __init__(self, error: RuntimeFailureError) -> None:
        super().__init__(error.title)
        self.error = error

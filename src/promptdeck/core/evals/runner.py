"""Run eval suites: prompts × models × cases × repeats through the gateway.

A run is planned first (:mod:`promptdeck.core.evals.plan`), with every problem found
before any model call: the suite validates, every assertion validates, every prompt
renders for every case. Then all its cells are stored as ``pending`` and worked
through in id order with bounded memory: concurrent gateway calls, each graded as it
finishes, results written in small batches. A run killed at any point leaves a
consistent database (finished cells stay finished, the rest stay pending) and
``resume`` finishes it without redoing anything. Errors are values: a failed call is
a cell with an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from promptdeck.core.evals.events import (
    CellFinished,
    Reporter,
    RunFinished,
    RunOutcome,
    RunStarted,
)
from promptdeck.core.evals.judge import make_judge
from promptdeck.core.evals.plan import SuitePlan, plan_suite, plan_suites, scoring_options
from promptdeck.core.evals.results import CellResult, CellSource, summarize
from promptdeck.core.evals.stored import run_results, score_from_row, stored_result
from promptdeck.core.gateway.costs import Estimate, estimate_prompt_tokens
from promptdeck.core.gateway.engine import CacheMode, CallSpec, Gateway
from promptdeck.core.prompt_refs import ResolvedPrompt
from promptdeck.core.scorers import CallMeta, Score, ScoringOptions, a_grade_case, judge_warning
from promptdeck.core.suites import Case
from promptdeck.core.templating import RenderedPrompt, render_prompt
from promptdeck.core.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, RuntimeFailureError
from promptdeck.store import cache_repo, runs_repo
from promptdeck.store.runs_repo import CellKey, CellWrite, PendingCell, ScoreWrite
from promptdeck.store.tables import Run
from promptdeck.timeutil import utcnow

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

DEFAULT_MAX_TOKENS_ESTIMATE = 256
FLUSH_EVERY = 50
FLUSH_SECONDS = 0.5
KEEP_RENDERED = 5000
"""Cells whose specs rendered for the estimate are kept for the run (bounds memory)."""


def _grading_key(case: Case, threshold: float, judge: str | None) -> str:
    data = {
        "asserts": [spec.model_dump(mode="json", by_alias=True) for spec in case.asserts],
        "expected": case.expected,
        "context": case.context,
        "threshold": threshold,
        "judge": judge,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:24]


class EvalRunner:
    """Runs planned suites through one gateway, reporting progress to a reporter."""

    def __init__(
        self,
        workspace: Workspace,
        gateway: Gateway,
        reporter: Reporter | None = None,
        *,
        max_cost: float | None = None,
        cache: CacheMode = "read",
        concurrency: int | None = None,
    ) -> None:
        self.workspace = workspace
        self.gateway = gateway
        self.reporter = reporter
        self.max_cost = max_cost if max_cost is not None else workspace.config.evals.max_cost
        self.cache: CacheMode = cache
        self.concurrency = concurrency
        self._last_render: tuple[tuple[int, str], RenderedPrompt, float] | None = None
        self._grading_keys: dict[tuple[str, float, str | None], str] = {}

    # -- planning helpers ---------------------------------------------------------------

    def _grading_key(self, case: Case, threshold: float, judge: str | None) -> str:
        # Every model and repeat of a case shares its grading key: hash it once a run.
        memo = (case.key, threshold, judge)
        key = self._grading_keys.get(memo)
        if key is None:
            key = self._grading_keys[memo] = _grading_key(case, threshold, judge)
        return key

    def _spec(
        self,
        plan: SuitePlan,
        prompt: ResolvedPrompt,
        model: str,
        case: Case,
        repeat: int,
        run_id: int | None,
    ) -> tuple[CallSpec, str]:
        # Cells come case by case, so the models and repeats of a case reuse one render.
        key = (prompt.version_id, case.key)
        if self._last_render is not None and self._last_render[0] == key:
            rendered, render_ms = self._last_render[1], self._last_render[2]
        else:
            started = time.perf_counter()
            rendered = render_prompt(
                prompt.file, case.vars, version=prompt.version, allow_extra=True
            )
            render_ms = (time.perf_counter() - started) * 1000
            self._last_render = (key, rendered, render_ms)
        params = dict(rendered.params)
        response_format = params.pop("response_format", None)
        schema = None
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema")
        spec = CallSpec(
            model=model,
            messages=rendered.messages,
            params=params,
            response_format=schema,
            repeat=repeat,
            cache=self.cache,
            semantic=plan.suite.file.cache == "semantic",
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            prompt_version_id=prompt.version_id,
            name=f"{plan.name}#{case.index}",
            kind="eval",
            run_id=run_id,
            render_ms=render_ms,
            variables=rendered.variables,
            guardrails=prompt.file.guardrails,
        )
        user = next((m["content"] for m in reversed(rendered.messages) if m["role"] == "user"), "")
        return spec, user

    def _estimate(self, plan: SuitePlan, specs: Sequence[CallSpec]) -> Estimate:
        # Priced as the gateway prices calls (by alias), with the params they will run with.
        estimate = Estimate()
        router, costs = self.gateway.router, self.gateway.costs
        out_tokens: dict[tuple[str, int | None], int] = {}
        for spec in specs:
            memo = (spec.model, spec.prompt_version_id)
            if memo not in out_tokens:
                params = router.params(router.resolve(spec.model), spec.params, spec.overrides)
                out_tokens[memo] = int(params.get("max_tokens") or DEFAULT_MAX_TOKENS_ESTIMATE)
            prompt_tokens = estimate_prompt_tokens(spec.messages)
            estimate.add(costs.estimate(spec.model, prompt_tokens, out_tokens[memo]), spec.model)
        return estimate

    # -- running ------------------------------------------------------------------------

    async def run(self, plan: SuitePlan) -> RunOutcome:
        """Create a run for the plan and carry it out."""
        uid = utcnow().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        config = {
            "suite": plan.name,
            "prompts": {p.name: p.version for p in plan.prompts},
            "models": plan.models,
            "repeat": plan.suite.file.repeat,
            "threshold": plan.suite.file.threshold,
            "judge": plan.judge,
        }
        with self.workspace.session() as session:
            run = runs_repo.create_run(session, uid, plan.name, config)
            assert run.id is not None
            total = runs_repo.insert_cells(
                session,
                run.id,
                (
                    CellKey(prompt.version_id, model, case.key, case.index, repeat)
                    for prompt, model, case, repeat in plan.cells()
                ),
            )
            run.total_cells = total
            session.add(run)
        return await self._execute(plan, uid)

    async def resume(self, uid: str) -> RunOutcome:
        """Finish an interrupted run without redoing its finished cells."""
        with self.workspace.session() as session:
            run = runs_repo.get_run(session, uid)
            if run is None:
                raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
            if run.status == "finished":
                raise ConfigError(f"run {run.uid} is already finished", "start a new run instead")
            config = dict(run.config)
            full = run.uid
        plan = plan_suite(self.workspace, str(config["suite"]), versions=dict(config["prompts"]))
        return await self._execute(plan, full)

    def _count_ahead(
        self,
        plan: SuitePlan,
        run_id: int,
        prompts: dict[int, ResolvedPrompt],
        cases: dict[str, Case],
    ) -> _Ahead:
        """Ahead of the first call: the calls to make, those the cache answers, the cost.

        The first cells' rendered specs and cache keys are kept for the run (bounded by
        ``KEEP_RENDERED``), so they are not rendered or hashed twice.
        """
        prepared: dict[int, tuple[CallSpec, str, str]] = {}
        pending_specs: list[CallSpec] = []
        keys: list[str] = []
        hits: set[str] = set()
        with self.workspace.session() as session:
            after = 0
            while batch := runs_repo.pending_cells(session, run_id, after, 2000):
                for cell in batch:
                    prompt = prompts.get(cell.prompt_version_id or -1)
                    case = cases.get(cell.case_key)
                    if prompt is None or case is None:
                        continue
                    spec, user = self._spec(plan, prompt, cell.model, case, cell.repeat, run_id)
                    key = self.gateway.cache_key(spec)
                    keys.append(key)
                    pending_specs.append(spec)
                    if len(prepared) < KEEP_RENDERED:
                        prepared[cell.id] = (spec, user, key)
                after = batch[-1].id
            # The keys answered in the cache now: the batches read only these (prefetch).
            if self.cache == "read" and self.workspace.config.cache.exact:
                hits = cache_repo.exact_keys(session, keys, self.gateway.not_before())
        # Only calls that will really be made cost anything (and need litellm's prices).
        uncached = [spec for spec, key in zip(pending_specs, keys, strict=True) if key not in hits]
        return _Ahead(
            prepared=prepared,
            hits=hits,
            cached=len(keys) - len(uncached),
            cost=self._estimate(plan, uncached) if uncached else Estimate(),
        )

    async def _execute(self, plan: SuitePlan, uid: str) -> RunOutcome:
        workspace = self.workspace
        self._grading_keys.clear()  # case keys are unique within one suite only
        with workspace.session() as session:
            run = runs_repo.get_run(session, uid)
            assert run is not None and run.id is not None
            run_id = run.id
            run.status = "running"
            session.add(run)
            counts = runs_repo.cell_counts(session, run_id)
        cases = {case.key: case for case in plan.suite.cases}
        prompts = {p.version_id: p for p in plan.prompts}
        threshold = plan.suite.file.threshold
        judge = (
            make_judge(self.gateway, plan.judge, run_id=run_id, state_dir=workspace.paths.state)
            if plan.judge
            else None
        )
        options = scoring_options(workspace)
        ahead = self._count_ahead(plan, run_id, prompts, cases)
        prepared, hits, cached, estimate = ahead.prepared, ahead.hits, ahead.cached, ahead.cost
        if self.max_cost is not None and estimate.unpriced:
            raise RuntimeFailureError(
                f"suite {plan.name!r}: no price is known for {', '.join(estimate.unpriced)}, "
                f"so --max-cost ${self.max_cost:.4f} cannot be kept; nothing was called",
                "give it a price (an alias with input_cost_per_token and output_cost_per_token "
                "in promptdeck.toml; 0 for a free server), or drop --max-cost",
            )
        if self.max_cost is not None and estimate.cost_usd > self.max_cost:
            raise RuntimeFailureError(
                f"suite {plan.name!r}: estimated cost ${estimate.cost_usd:.4f} is over --max-cost "
                f"${self.max_cost:.4f}; nothing was called",
                "raise --max-cost, or run fewer cases or cheaper models",
            )
        warning = judge_warning(plan.judge) if plan.judge else None
        if self.reporter:
            self.reporter.started(
                RunStarted(
                    uid,
                    plan.name,
                    counts["total"],
                    counts["pending"],
                    cached,
                    estimate.cost_usd,
                    warning,
                    tuple(estimate.unpriced),
                )
            )
        state = _Progress(
            total=counts["total"],
            done=counts["total"] - counts["pending"],
            passed=counts["passed"],
            failed=counts["failed"],
            errors=counts["errors"],
            cost=counts["cost_micro"] / 1_000_000,
        )
        writes: list[CellWrite] = []
        # A run that starts with nothing finished keeps its results as it stores them
        # (built as they read back), so its end does not read every cell back.
        finished: list[tuple[int, CellResult]] | None = (
            [] if counts["pending"] == counts["total"] else None
        )
        last_flush = time.monotonic()
        limit = asyncio.Semaphore(self.concurrency or plan.suite.file.concurrency or 8)
        tasks: set[asyncio.Task[None]] = set()
        stopped: str | None = None
        started = time.monotonic()

        async def flush() -> None:
            nonlocal writes, last_flush
            batch, writes = writes, []
            last_flush = time.monotonic()
            if batch:
                await asyncio.to_thread(self._write, batch)

        async def do(cell: PendingCell, job: _Job | None) -> None:
            nonlocal stopped, finished
            try:
                result, write = await self._cell(plan, cell, job, threshold, judge, options)
                writes.append(write)
                if finished is not None and job is not None:
                    prompt = f"{job.prompt.name}@{job.prompt.version}"
                    stored = stored_result(plan.name, prompt, cell, write, write.scores)
                    finished.append((cell.id, stored))
                elif finished is not None:
                    finished = None  # an orphaned cell: read the run back instead
                state.add(result)
                if self.reporter:
                    self.reporter.cell(state.event(result, time.monotonic() - started))
                if self.max_cost is not None and state.cost >= self.max_cost and stopped is None:
                    stopped = f"cost reached --max-cost ${self.max_cost:.4f}"
                if len(writes) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS:
                    await flush()
            finally:
                limit.release()

        status = "finished"
        try:
            after = 0
            with workspace.session() as session:
                batch = runs_repo.pending_cells(session, run_id, after, 500)
            while batch and stopped is None:
                jobs = await self._prepare(plan, batch, prepared, prompts, cases, threshold, hits)
                for cell in batch:
                    await limit.acquire()
                    if stopped is not None:
                        limit.release()
                        break
                    task = asyncio.create_task(do(cell, jobs.get(cell.id)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                after = batch[-1].id
                with workspace.session() as session:
                    batch = runs_repo.pending_cells(session, run_id, after, 500)
            if tasks:
                await asyncio.gather(*tasks)
            await flush()
            await self.gateway.flush()
        except (asyncio.CancelledError, KeyboardInterrupt):
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._write(writes)
            status = "interrupted"
            self._finish_run(run_id, status, None, plan.judge)
            raise
        if stopped is not None:
            status = "stopped"
        kept = [r for _, r in sorted(finished, key=lambda item: item[0])] if finished else None
        return self._finish_run(run_id, status, stopped, plan.judge, kept)

    async def _prepare(
        self,
        plan: SuitePlan,
        batch: Sequence[PendingCell],
        prepared: dict[int, tuple[CallSpec, str, str]],
        prompts: dict[int, ResolvedPrompt],
        cases: dict[str, Case],
        threshold: float,
        known: set[str],
    ) -> dict[int, _Job]:
        """Get a batch of cells ready: rendered, their cache answers and kept grades found.

        Two look-ups for the whole batch (in a thread) instead of several per cell on the
        event loop.
        """
        jobs: dict[int, _Job] = {}
        keys: list[str | None] = []
        for cell in batch:
            prompt = prompts.get(cell.prompt_version_id or -1)
            case = cases.get(cell.case_key)
            if prompt is None or case is None:
                continue
            ready = prepared.pop(cell.id, None)
            if ready is None:
                spec, user = self._spec(plan, prompt, cell.model, case, cell.repeat, cell.run_id)
                keys.append(None)
            else:
                spec, user, key = ready
                keys.append(key)
            identity = CellKey(prompt.version_id, cell.model, case.key, case.index, cell.repeat)
            jobs[cell.id] = _Job(prompt, case, spec, user, identity)
        # Cells rendered after the count are looked up in full (their answers may be new).
        hits = await self.gateway.prefetch(
            [job.spec for job in jobs.values()],
            keys,
            known if all(key is not None for key in keys) else None,
        )
        wanted: dict[int, runs_repo.GradeWanted] = {}
        for (cell_id, job), hit in zip(jobs.items(), hits, strict=True):
            if hit is not None:
                grading = self._grading_key(job.case, threshold, plan.judge)
                wanted[cell_id] = (job.identity, grading, hit.text)
        if wanted:
            kept = await asyncio.to_thread(self._previous_many, list(wanted.values()))
            for cell_id, item in wanted.items():
                jobs[cell_id].kept, jobs[cell_id].kept_for = kept.get(item), item
        return jobs

    async def _cell(
        self,
        plan: SuitePlan,
        cell: PendingCell,
        job: _Job | None,
        threshold: float,
        judge: Any,
        options: ScoringOptions,
    ) -> tuple[CellResult, CellWrite]:
        if job is None:
            error = (
                "the case is no longer in the suite file"
                if cell.case_key not in {c.key for c in plan.suite.cases}
                else "unknown prompt version"
            )
            result = CellResult(
                plan.name,
                "?",
                cell.model,
                cell.case_key,
                cell.case_index,
                "?",
                repeat=cell.repeat,
                error=error,
            )
            return result, CellWrite(
                cell.id,
                "error",
                None,
                None,
                None,
                error,
                "fresh",
                None,
                None,
                None,
                None,
                0.0,
                None,
            )
        prompt, case = job.prompt, job.case
        call = await self.gateway.call(job.spec)
        done = call.completion
        tokens = done.usage.total_tokens if done.usage else None
        base = CellResult(
            suite=plan.name,
            prompt=f"{prompt.name}@{prompt.version}",
            model=cell.model,
            case_key=case.key,
            case_index=case.index,
            case_source=case.source,
            case_description=case.description,
            repeat=cell.repeat,
            latency_ms=done.latency_ms,
            ttft_ms=done.ttft_ms,
            tokens=tokens,
            cost_usd=done.cost_usd,
        )
        timing = (call.trace_id, done.latency_ms, done.ttft_ms, tokens, done.cost_usd or 0.0)
        if done.error or done.text is None:
            error = done.error or "no answer"
            write = CellWrite(cell.id, "error", None, None, None, error, "fresh", *timing, None)
            return replace(base, error=error), write
        output = done.text
        key = self._grading_key(case, threshold, plan.judge)
        from_cache = call.cache in ("exact", "semantic")
        similarity = call.similarity if call.cache == "semantic" else None
        previous: runs_repo.PreviousGrade | None = None
        if from_cache:
            wanted = (job.identity, key, output)
            if job.kept is not None and job.kept_for == wanted:
                previous = job.kept
            else:
                found = await asyncio.to_thread(self._previous_many, [wanted])
                previous = found.get(wanted)
        source: CellSource
        if previous is not None:
            scores: Sequence[Score] = tuple(score_from_row(r) for r in previous.scores)
            score, passed = previous.score, previous.passed
            source = "cached"
        else:
            meta = CallMeta(done.latency_ms, done.cost_usd, tokens, job.user)
            grade = await a_grade_case(
                case, output, meta, threshold=threshold, judge=judge, options=options
            )
            scores, score, passed = grade.scores, grade.score, grade.passed
            source = "regraded" if from_cache else "fresh"
        if similarity is not None:
            source = "semantic"  # another request's answer, whatever became of its grades
        result = replace(
            base,
            output=output,
            scores=tuple(scores),
            score=score,
            passed=passed,
            source=source,
            similarity=similarity,
        )
        stored = tuple(
            ScoreWrite(s.name, s.type, s.value, s.passed, s.weight, s.reason or s.error)
            for s in scores
        )
        write = CellWrite(
            cell.id, "done", output, score, passed, None, source, *timing, key, stored, similarity
        )
        return result, write

    def _previous_many(
        self, wanted: list[runs_repo.GradeWanted]
    ) -> dict[runs_repo.GradeWanted, runs_repo.PreviousGrade]:
        with self.workspace.session() as session:
            return runs_repo.previous_grades_many(session, wanted)

    def _write(self, batch: list[CellWrite]) -> None:
        if batch:
            with self.workspace.session() as session:
                runs_repo.write_cells(session, batch)

    def _finish_run(
        self,
        run_id: int,
        status: str,
        reason: str | None,
        judge: str | None,
        cells: list[CellResult] | None = None,
    ) -> RunOutcome:
        """Close the run's row; report and return its results.

        Args:
            run_id: The run's row id.
            status: How it ended (``finished``, ``stopped``, ``interrupted``).
            reason: Why it stopped early, if it did.
            judge: The judge model of its model-graded assertions, if any.
            cells: Every finished cell as stored, when the caller kept them (in cell
                order); None: read them back from the database.
        """
        with self.workspace.session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            counts = runs_repo.cell_counts(session, run_id)
            run.passed, run.failed, run.errors = (
                counts["passed"],
                counts["failed"],
                counts["errors"],
            )
            run.cost_usd = counts["cost_micro"] / 1_000_000
            if counts["pending"] and status == "finished":
                status = "stopped"
            run.status = status
            run.finished_at = utcnow()
            run.summary = {"counts": counts, "stopped": reason}
            session.add(run)
            uid = run.uid
        if cells is None:
            cells = list(self.results(uid))
        summary = summarize(cells, run_id=uid, judge=judge)
        outcome = RunOutcome(uid, status, summary, cells, reason)
        if self.reporter:
            self.reporter.finished(RunFinished(uid, status, summary))
        return outcome

    def results(self, uid: str) -> Iterator[CellResult]:
        """Yield a run's finished cells as result records (streamed from the database)."""
        return run_results(self.workspace, uid)


@dataclass
class _Progress:
    total: int
    done: int
    passed: int
    failed: int
    errors: int
    cost: float

    def add(self, cell: CellResult) -> None:
        self.done += 1
        self.cost += cell.cost_usd or 0.0
        if cell.error is not None:
            self.errors += 1
        elif cell.passed:
            self.passed += 1
        else:
            self.failed += 1

    def event(self, cell: CellResult, elapsed: float) -> CellFinished:
        return CellFinished(
            cell, self.done, self.total, self.passed, self.failed, self.errors, self.cost, elapsed
        )


@dataclass
class _Job:
    """A pending cell made ready to run: its call, and a grade it may keep."""

    prompt: ResolvedPrompt
    case: Case
    spec: CallSpec
    user: str
    identity: CellKey
    kept: runs_repo.PreviousGrade | None = None
    kept_for: runs_repo.GradeWanted | None = None


@dataclass
class _Ahead:
    """What the runner knows before a run's first call (see ``_count_ahead``)."""

    prepared: dict[int, tuple[CallSpec, str, str]]
    hits: set[str]
    cached: int
    cost: Estimate

"""Run eval suites: prompts × models × cases × repeats through the gateway.

A run is planned first, with every problem found before any model call: the suite
validates, every assertion validates, every prompt renders for every case. Then all
its cells are stored as ``pending`` and worked through in id order with bounded
memory: concurrent gateway calls, each graded as it finishes, results written in
small batches. A run killed at any point leaves a consistent database (finished
cells stay finished, the rest stay pending) and ``resume`` finishes it without
redoing anything. Errors are values: a failed call is a cell with an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from promptdeck.core.evals.judge import make_judge
from promptdeck.core.evals.results import CellResult, CellSource, RunSummary, summarize
from promptdeck.core.gateway.costs import estimate_tokens
from promptdeck.core.gateway.engine import CacheMode, CallSpec, Gateway
from promptdeck.core.prompt_refs import ResolvedPrompt, resolve_prompt
from promptdeck.core.scorers import (
    CallMeta,
    Score,
    ScoringOptions,
    a_grade_case,
    check_cases,
    judge_warning,
    requires_judge,
)
from promptdeck.core.suites import SUITE_SUFFIX, Case, LoadedSuite, load_suite, suite_files
from promptdeck.core.templating import RenderedPrompt, render_prompt
from promptdeck.core.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, PromptdeckError, RuntimeFailureError
from promptdeck.store import cache_repo, runs_repo
from promptdeck.store.runs_repo import CellKey, CellWrite, PendingCell, ScoreWrite
from promptdeck.store.tables import Run
from promptdeck.timeutil import utcnow

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
]

DEFAULT_MAX_TOKENS_ESTIMATE = 256
FLUSH_EVERY = 50
FLUSH_SECONDS = 0.5
KEEP_RENDERED = 5000
"""Cells whose specs rendered for the estimate are kept for the run (bounds memory)."""


@dataclass(frozen=True)
class SuitePlan:
    """A validated suite, its prompt versions and models, ready to run."""

    suite: LoadedSuite
    prompts: list[ResolvedPrompt]
    models: list[str]
    judge: str | None

    @property
    def name(self) -> str:
        """The suite's name."""
        return self.suite.name

    @property
    def total(self) -> int:
        """Cells: prompts × models × cases × repeats."""
        return len(self.prompts) * len(self.models) * len(self.suite.cases) * self.suite.file.repeat

    def cells(self) -> Iterator[tuple[ResolvedPrompt, str, Case, int]]:
        """Every cell, case by case."""
        for case in self.suite.cases:
            for prompt in self.prompts:
                for model in self.models:
                    for repeat in range(self.suite.file.repeat):
                        yield prompt, model, case, repeat


@dataclass(frozen=True)
class RunStarted:
    """Reported before the first call."""

    run_uid: str
    suite: str
    total: int
    pending: int
    cached: int
    estimated_cost: float
    judge_warning: str | None


@dataclass(frozen=True)
class CellFinished:
    """Reported as each cell is graded."""

    cell: CellResult
    done: int
    total: int
    passed: int
    failed: int
    errors: int
    cost_usd: float
    elapsed: float


@dataclass(frozen=True)
class RunFinished:
    """Reported when the run ends (finished, stopped or interrupted)."""

    run_uid: str
    status: str
    summary: RunSummary


class Reporter(Protocol):
    """Where a run reports its progress (the CLI prints, the TUI posts messages)."""

    def started(self, event: RunStarted) -> None:
        """A run is about to make its first call."""

    def cell(self, event: CellFinished) -> None:
        """A cell finished."""

    def finished(self, event: RunFinished) -> None:
        """The run ended."""


@dataclass
class RunOutcome:
    """What a finished run gives back to its caller."""

    run_uid: str
    status: str
    summary: RunSummary
    cells: list[CellResult] = field(default_factory=list)
    stopped_reason: str | None = None


def _suite_path(workspace: Workspace, name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix == ".yaml" and candidate.exists():
        return candidate.resolve()
    path = workspace.paths.suites / f"{name}{SUITE_SUFFIX}"
    if not path.is_file():
        names = [p.name.removesuffix(SUITE_SUFFIX) for p in suite_files(workspace.paths)]
        raise NotFoundError(
            f"no suite named {name!r} in {workspace.paths.relative(workspace.paths.suites)}/",
            f"suites: {', '.join(names) or 'none yet'}",
        )
    return path


def plan_suite(
    workspace: Workspace, name: str, *, versions: dict[str, int] | None = None
) -> SuitePlan:
    """Validate a suite completely and resolve what it runs, before any call.

    Args:
        workspace: The open (synced) workspace.
        name: The suite's name (or path to its file).
        versions: Pin prompts to these versions (name -> version), as a resumed run does.

    Raises:
        ConfigError: The first problem (its count in the title when there are more).
        NotFoundError: Unknown suite or prompt.
    """
    suite = load_suite(_suite_path(workspace, name), workspace.paths)
    options = _options(workspace)
    problems = check_cases(suite.cases, options)
    with workspace.session() as session:
        prompts = []
        for ref in suite.file.prompts:
            if versions and ref.split("@", 1)[0] in versions:
                base = ref.split("@", 1)[0]
                prompts.append(resolve_prompt(session, f"{base}@{versions[base]}"))
            else:
                prompts.append(resolve_prompt(session, ref))
    config = workspace.config
    models = [m for m in suite.file.models] or [config.default_model]
    for prompt in prompts:
        for case in suite.cases:
            try:
                render_prompt(prompt.file, case.vars, allow_extra=True)
            except PromptdeckError as error:
                problems.append(
                    ConfigError(f"{case.source}: {error.title}", error.hint or "fix the case")
                )
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ConfigError(f"{first.title}{more}", first.hint)
    needs_judge = any(requires_judge(spec) for case in suite.cases for spec in case.asserts)
    judge = (suite.file.judge or config.judge_model) if needs_judge else None
    return SuitePlan(suite, prompts, models, judge)


def plan_suites(workspace: Workspace, names: Sequence[str]) -> list[SuitePlan]:
    """Plan the named suites (all of them when none is named)."""
    chosen = list(names) or [
        p.name.removesuffix(SUITE_SUFFIX) for p in suite_files(workspace.paths)
    ]
    if not chosen:
        raise NotFoundError(
            "this workspace has no suites", "add one in suites/ (see docs/formats.md)"
        )
    return [plan_suite(workspace, name) for name in chosen]


def _options(workspace: Workspace) -> ScoringOptions:
    return ScoringOptions(
        allow_python=workspace.config.evals.allow_python,
        workspace_root=workspace.paths.root,
        state_dir=workspace.paths.state,
    )


def _grading_key(case: Case, threshold: float, judge: str | None) -> str:
    data = {
        "asserts": [spec.model_dump(mode="json", by_alias=True) for spec in case.asserts],
        "expected": case.expected,
        "context": case.context,
        "threshold": threshold,
        "judge": judge,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _score_from_row(row: Any) -> Score:
    return Score(
        name=row.name,
        type=row.assertion_type,
        value=row.value,
        passed=bool(row.passed),
        reason=row.reason or "",
        weight=row.weight,
    )


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

    def _estimate(self, plan: SuitePlan, specs: Sequence[CallSpec]) -> float:
        total = 0.0
        for spec in specs:
            target = self.gateway.router.resolve(spec.model)
            prices = self.gateway.costs.prices(spec.model, target.model)
            if not prices:
                continue
            prompt_tokens = sum(estimate_tokens(m["content"]) for m in spec.messages)
            out = int(spec.params.get("max_tokens") or DEFAULT_MAX_TOKENS_ESTIMATE)
            total += prompt_tokens * prices[0] + out * prices[1]
        return total

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
        options = _options(workspace)
        # Ahead of the first call: how many calls, how many already cached, the cost.
        # The first cells' rendered specs are kept for the run (bounded), not rendered twice.
        prepared: dict[int, tuple[CallSpec, str, str]] = {}
        pending_specs: list[CallSpec] = []
        cached = 0
        keys: list[str] = []
        with workspace.session() as session:
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
            # The keys answered in the cache now: the batches read only these (see prefetch).
            hits: set[str] = set()
            if self.cache == "read" and workspace.config.cache.exact:
                hits = cache_repo.exact_keys(session, keys, self.gateway.not_before())
                cached = sum(1 for key in keys if key in hits)
        # Only calls that will really be made cost anything (and need litellm's prices).
        uncached = [spec for spec, key in zip(pending_specs, keys, strict=True) if key not in hits]
        estimate = self._estimate(plan, uncached) if uncached else 0.0
        del pending_specs, keys, uncached
        if self.max_cost is not None and estimate > self.max_cost:
            raise RuntimeFailureError(
                f"suite {plan.name!r}: estimated cost ${estimate:.4f} is over --max-cost "
                f"${self.max_cost:.4f}; nothing was called",
                "raise --max-cost, or run fewer cases or cheaper models",
            )
        warning = judge_warning(plan.judge) if plan.judge else None
        if self.reporter:
            self.reporter.started(
                RunStarted(
                    uid, plan.name, counts["total"], counts["pending"], cached, estimate, warning
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
            nonlocal stopped
            try:
                result, write = await self._cell(plan, cell, job, threshold, judge, options)
                writes.append(write)
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
        outcome = self._finish_run(run_id, status, stopped, plan.judge)
        return outcome

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
            scores: Sequence[Score] = tuple(_score_from_row(r) for r in previous.scores)
            score, passed = previous.score, previous.passed
            source = "cached"
        else:
            meta = CallMeta(done.latency_ms, done.cost_usd, tokens, job.user)
            grade = await a_grade_case(
                case, output, meta, threshold=threshold, judge=judge, options=options
            )
            scores, score, passed = grade.scores, grade.score, grade.passed
            source = "regraded" if from_cache else "fresh"
        result = replace(
            base, output=output, scores=tuple(scores), score=score, passed=passed, source=source
        )
        stored = tuple(
            ScoreWrite(s.name, s.type, s.value, s.passed, s.weight, s.reason or s.error)
            for s in scores
        )
        write = CellWrite(
            cell.id, "done", output, score, passed, None, source, *timing, key, stored
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
        self, run_id: int, status: str, reason: str | None, judge: str | None
    ) -> RunOutcome:
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
        cells = list(self.results(uid))
        summary = summarize(cells, run_id=uid, judge=judge)
        outcome = RunOutcome(uid, status, summary, cells, reason)
        if self.reporter:
            self.reporter.finished(RunFinished(uid, status, summary))
        return outcome

    def results(self, uid: str) -> Iterator[CellResult]:
        """Yield a run's finished cells as result records (streamed from the database)."""
        return run_results(self.workspace, uid)


def run_results(workspace: Workspace, uid: str) -> Iterator[CellResult]:
    """Yield a stored run's finished cells as result records."""
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        suite = run.suite or "?"
        from sqlmodel import select

        from promptdeck.store.tables import Prompt, PromptVersion

        names = {
            vid: f"{name}@{version}"
            for vid, name, version in session.exec(
                select(PromptVersion.id, Prompt.name, PromptVersion.version).join(
                    Prompt,
                    Prompt.id == PromptVersion.prompt_id,  # type: ignore[arg-type]
                )
            ).all()
        }
        for cell, rows in runs_repo.iter_cells(session, run.id):
            if cell.status == "pending":
                continue
            yield CellResult(
                suite=suite,
                prompt=names.get(cell.prompt_version_id or -1, "?"),
                model=cell.model,
                case_key=cell.case_key,
                case_index=cell.case_index,
                case_source=cell.case_key.split("#")[0],
                repeat=cell.repeat,
                output=cell.output,
                scores=tuple(_score_from_row(r) for r in rows),
                score=float(cell.score or 0.0),
                passed=bool(cell.passed),
                error=cell.error,
                latency_ms=cell.latency_ms,
                ttft_ms=cell.ttft_ms,
                tokens=cell.tokens,
                cost_usd=cell.cost_usd,
                source=(cell.source or "fresh"),
            )


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

"""Cells made ready to call: rendered, counted and priced ahead, prepared batch by batch.

Before its first call a run counts the calls it will make, those the cache answers
and their cost (:meth:`CellPlanner.count_ahead`); then each batch of pending cells is
rendered once per case, its exact-cache answers read in one query and the grades its
unchanged cells can keep in another (:meth:`CellPlanner.prepare`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from promptdeck.core.evals.case_stream import CaseCursor
from promptdeck.core.evals.cell_request import cell_call
from promptdeck.core.evals.cells import AnswerFacts, CellJob, CellWork
from promptdeck.core.evals.plan import SuitePlan
from promptdeck.core.evals.suites import Case
from promptdeck.core.gateway.costs import Estimate, estimate_prompt_tokens
from promptdeck.core.gateway.engine import CacheMode, CallSpec, Gateway
from promptdeck.core.prompts.refs import ResolvedPrompt
from promptdeck.core.prompts.templating import RenderedPrompt, render_prompt
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import cache_repo, runs_repo, traces_repo
from promptdeck.store.runs_repo import CellKey, PendingCell

__all__ = ["DEFAULT_MAX_TOKENS_ESTIMATE", "Ahead", "CellPlanner"]

DEFAULT_MAX_TOKENS_ESTIMATE = 256
"""Output tokens assumed for the estimate of a call without ``max_tokens``."""


@dataclass
class Ahead:
    """What the runner knows before a run's first call (see ``CellPlanner.count_ahead``).

    Attributes:
        prepared: The first cells' specs, last user messages and cache keys, by cell id.
        hits: The cache keys answered in the exact cache.
        cached: Cells the cache (or an alike cell's call) answers.
        cost: The estimated cost of the calls to make (and the models with no price).
        uses: How many cells ask each request asked by more than one (by cache key).
        free: Pending cells free to take (no live process holds them).
    """

    prepared: dict[int, tuple[CallSpec, str, str]]
    hits: set[str]
    cached: int
    cost: Estimate
    uses: dict[str, int]
    free: int


class CellPlanner:
    """Renders a run's cells into calls, and looks ahead at what they will cost.

    Args:
        workspace: The workspace.
        gateway: The gateway (its router, prices and cache).
        cache: The cache mode of the run's calls.
        shared: Other processes (workers) work on the run too: each batch looks every
            key up in the cache, since answers arrive from them after the count.
    """

    def __init__(
        self, workspace: Workspace, gateway: Gateway, cache: CacheMode, *, shared: bool = False
    ) -> None:
        self.workspace = workspace
        self.gateway = gateway
        self.cache: CacheMode = cache
        self.shared = shared
        self._last_render: tuple[tuple[int, str], RenderedPrompt, float] | None = None

    def spec(
        self,
        plan: SuitePlan,
        prompt: ResolvedPrompt,
        model: str,
        case: Case,
        repeat: int,
        run_id: int | None,
    ) -> tuple[CallSpec, str]:
        """A cell's call, and its last user message (for assertions on the input)."""
        # Cells come case by case, so the models and repeats of a case reuse one render.
        key = (prompt.version_id, case.key)
        if self._last_render is not None and self._last_render[0] == key:
            rendered, render_ms = self._last_render[1], self._last_render[2]
        else:
            started = time.perf_counter()
            rendered = render_prompt(
                prompt.file,
                case.vars,
                version=prompt.version,
                allow_extra=True,
                config=self.workspace.config,
            )
            render_ms = (time.perf_counter() - started) * 1000
            self._last_render = (key, rendered, render_ms)
        # Token logprobs only for the cases that grade them (perplexity).
        spec = cell_call(
            rendered,
            case.asserts,
            model=model,
            repeat=repeat,
            cache=self.cache,
            name=f"{plan.name}#{case.index}",
            semantic=plan.suite.file.cache == "semantic",
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            prompt_version_id=prompt.version_id,
            run_id=run_id,
            render_ms=render_ms,
            variables=rendered.variables,
            guardrails=prompt.file.guardrails,
        )
        user = next((m["content"] for m in reversed(rendered.messages) if m["role"] == "user"), "")
        return spec, user

    def estimate(self, specs: Sequence[CallSpec]) -> Estimate:
        """The cost of these calls, priced as the gateway prices them (by alias).

        Each call is counted with the parameters it will run with; models with no known
        price are listed, not counted.
        """
        estimate = Estimate()
        out_tokens: dict[tuple[str, int | None], int] = {}
        for spec in specs:
            self._price(spec, estimate, out_tokens)
        return estimate

    def _price(
        self, spec: CallSpec, estimate: Estimate, out_tokens: dict[tuple[str, int | None], int]
    ) -> None:
        """Add one call to ``estimate`` (``out_tokens``: its output tokens, by model)."""
        router = self.gateway.router
        memo = (spec.model, spec.prompt_version_id)
        if memo not in out_tokens:
            params = router.params(router.resolve(spec.model), spec.params, spec.overrides)
            out_tokens[memo] = int(params.get("max_tokens") or DEFAULT_MAX_TOKENS_ESTIMATE)
        prompt_tokens = estimate_prompt_tokens(spec.messages)
        estimate.add(
            self.gateway.costs.estimate(spec.model, prompt_tokens, out_tokens[memo]), spec.model
        )

    def count_ahead(
        self,
        plan: SuitePlan,
        run_id: int,
        prompts: dict[int, ResolvedPrompt],
        cases: CaseCursor,
        free_since: datetime,
        keep: int,
    ) -> Ahead:
        """Ahead of the first call: the calls to make, those the cache answers, the cost.

        Only the cells free to take count (not those another live process holds). The
        first ``keep`` cells' rendered specs and cache keys are kept for the run (bounded
        memory), so they are not rendered or hashed twice; the others are counted a
        batch at a time, in one pass, and let go.
        """
        prepared: dict[int, tuple[CallSpec, str, str]] = {}
        hits: set[str] = set()
        uses: Counter[str] = Counter()
        estimate, out_tokens = Estimate(), dict[tuple[str, int | None], int]()
        free = calls = made = 0
        # The keys answered in the cache now: the batches read only these (prefetch).
        look_up = self.cache == "read" and self.workspace.config.cache.exact
        with self.workspace.session() as session:
            after = 0
            while batch := runs_repo.pending_cells(session, run_id, after, 2000, free_since):
                free += len(batch)
                counted: list[tuple[CallSpec, str]] = []
                for cell in batch:
                    prompt = prompts.get(cell.prompt_version_id or -1)
                    case = cases.get(cell.case_key, cell.case_index)
                    if prompt is None or case is None or cell.answer is not None:
                        continue
                    spec, user = self.spec(plan, prompt, cell.model, case, cell.repeat, run_id)
                    key = self.gateway.cache_key(spec)
                    counted.append((spec, key))
                    if len(prepared) < keep:
                        prepared[cell.id] = (spec, user, key)
                after = batch[-1].id
                if look_up and counted:
                    hits |= cache_repo.exact_keys(
                        session, [key for _, key in counted], self.gateway.not_before()
                    )
                # Only calls that will really be made cost anything (and need litellm's
                # prices); cells asking the same request share one call.
                for spec, key in counted:
                    uses[key] += 1
                    calls += 1
                    if key not in hits and uses[key] == 1:
                        made += 1
                        self._price(spec, estimate, out_tokens)
        return Ahead(
            prepared=prepared,
            hits=hits,
            cached=calls - made,
            cost=estimate,
            uses={key: n for key, n in uses.items() if n > 1},
            free=free,
        )

    async def prepare(
        self,
        plan: SuitePlan,
        batch: Sequence[PendingCell],
        ahead: Ahead,
        prompts: dict[int, ResolvedPrompt],
        cases: CaseCursor,
        work: CellWork,
    ) -> dict[int, CellJob]:
        """Get a batch of cells ready: rendered, their cache answers and kept grades found.

        Two look-ups for the whole batch (in a thread) instead of several per cell on the
        event loop.
        """
        jobs: dict[int, CellJob] = {}
        all_counted = True  # every cell's key was looked up by count_ahead
        for cell in batch:
            prompt = prompts.get(cell.prompt_version_id or -1)
            case = cases.get(cell.case_key, cell.case_index)
            if prompt is None or case is None:
                continue
            ready = ahead.prepared.pop(cell.id, None)
            if ready is None:
                spec, user = self.spec(plan, prompt, cell.model, case, cell.repeat, cell.run_id)
                key = self.gateway.cache_key(spec)
                all_counted = False
            else:
                spec, user, key = ready
            identity = CellKey(prompt.version_id, cell.model, case.key, case.index, cell.repeat)
            jobs[cell.id] = CellJob(prompt, case, spec, user, identity, key)
        # Cells rendered after the count are looked up in full (their answers may be new).
        hits = await self.gateway.prefetch(
            [job.spec for job in jobs.values()],
            [job.key for job in jobs.values()],
            ahead.hits if all_counted and not self.shared else None,
        )
        wanted: dict[int, runs_repo.GradeWanted] = {}
        for (cell_id, job), hit in zip(jobs.items(), hits, strict=True):
            if hit is not None and job.case.asserts:
                wanted[cell_id] = (job.identity, work.grading_key(job.case), hit.text)
        if wanted:
            kept = await self.previous_many(list(wanted.values()))
            for cell_id, item in wanted.items():
                jobs[cell_id].kept, jobs[cell_id].kept_for = kept.get(item), item
        return jobs

    async def previous_many(
        self, wanted: list[runs_repo.GradeWanted]
    ) -> dict[runs_repo.GradeWanted, runs_repo.PreviousGrade]:
        """Earlier grades that unchanged cells can keep (one query, in a thread)."""

        def look_up() -> dict[runs_repo.GradeWanted, runs_repo.PreviousGrade]:
            with self.workspace.session() as session:
                return runs_repo.previous_grades_many(session, wanted)

        return await asyncio.to_thread(look_up)

    async def answer_facts(self, trace_uid: str | None) -> AnswerFacts:
        """What the call of a stored answer recorded: finish reason, logprobs, model."""

        def look_up() -> AnswerFacts:
            if not trace_uid:
                return AnswerFacts()
            with self.workspace.session() as session:
                found = traces_repo.find_trace(session, trace_uid)
                row = found.completion if found is not None else None
                if row is None:
                    return AnswerFacts()
                request = row.request if isinstance(row.request, dict) else {}
                return AnswerFacts(
                    row.finish_reason,
                    Logprobs.from_json(request.get("logprobs")),
                    row.answered_by or row.model,
                )

        return await asyncio.to_thread(look_up)

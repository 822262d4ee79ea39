"""One cell of a run: its call (shared by alike cells), its answer stored, its grade.

A cell's answer is queued for writing the moment it arrives, before it is graded:
a run interrupted while grading (a judge is slow) keeps the answer, and the resume
grades it without calling the model again. Cells whose requests are identical (the
same input checked by several cases, as promptfoo-style suites do) share one call
and are graded each against its own assertions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from promptdeck.core.evals.results import CellResult, CellSource
from promptdeck.core.evals.stored import score_from_row
from promptdeck.core.evals.suites import Case
from promptdeck.core.evals.writer import CellWriter
from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.prompts.refs import ResolvedPrompt
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.core.scorers import CallMeta, Score, ScoringOptions, a_grade_case, case_score
from promptdeck.core.scorers.across import ACROSS, is_across
from promptdeck.store import runs_repo
from promptdeck.store.runs_repo import CellKey, CellWrite, PendingCell, ScoreWrite

__all__ = ["AnswerFacts", "CellJob", "CellWork", "SharedCalls", "grading_key"]

Timing = tuple[str | None, float | None, float | None, int | None, float]
"""A cell's trace id, latency, time to first token, tokens and cost."""


def grading_key(case: Case, threshold: float, judge: str | None) -> str:
    """A digest of everything a cell's grade depends on besides its output."""
    data = {
        "asserts": [spec.model_dump(mode="json", by_alias=True) for spec in case.asserts],
        "expected": case.expected,
        "context": case.context,
        "threshold": threshold,
        "judge": judge,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class AnswerFacts:
    """What the grade of an answer stored before an interruption reads from its call.

    Attributes:
        finish_reason: Why the model stopped (``finish-reason``).
        logprobs: The answer's token logprobs, when recorded (``perplexity``).
        model: The model that answered.
    """

    finish_reason: str | None = None
    logprobs: Logprobs | None = None
    model: str | None = None


@dataclass
class CellJob:
    """A pending cell made ready to run: its call, its cache key, and a grade it may keep."""

    prompt: ResolvedPrompt
    case: Case
    spec: CallSpec
    user: str
    identity: CellKey
    key: str
    kept: runs_repo.PreviousGrade | None = None
    kept_for: runs_repo.GradeWanted | None = None


class SharedCalls:
    """Calls made once for every cell of a run that asks the very same request.

    Args:
        gateway: The gateway.
        uses: How many of the run's pending cells ask each request (by cache key);
            only keys asked more than once are shared.
    """

    def __init__(self, gateway: Gateway, uses: dict[str, int]) -> None:
        self.gateway = gateway
        self._uses = {key: n for key, n in uses.items() if n > 1}
        self._calls: dict[str, asyncio.Future[CallResult]] = {}

    async def call(self, key: str, spec: CallSpec) -> tuple[CallResult, bool]:
        """Make the call, or wait for the same call made for another cell.

        Returns:
            The call's result, and whether it was made for another cell.
        """
        if key not in self._uses:
            return await self.gateway.call(spec), False
        future = self._calls.get(key)
        shared = future is not None
        try:
            if future is None:
                future = self._calls[key] = asyncio.get_running_loop().create_future()
                try:
                    future.set_result(await self.gateway.call(spec))
                except BaseException as exc:
                    del self._calls[key]
                    future.set_exception(exc)
                    future.exception()  # retrieved: waiters re-raise it
                    raise
            return await asyncio.shield(future), shared
        finally:
            self._uses[key] -= 1
            if self._uses[key] <= 0:
                self._uses.pop(key, None)
                self._calls.pop(key, None)


class CellWork:
    """Runs cells: the call (or the answer stored before), the grade, the writes.

    Args:
        suite: The suite's name.
        shared: Makes the calls.
        writer: Stores cells as they change.
        threshold: The suite's threshold.
        judge_model: The judge model of model-graded assertions, if any.
        judge: The judge itself, if any.
        options: The workspace's scoring options.
        previous: Finds earlier grades that unchanged cells can keep.
        facts: Reads what a stored answer's call recorded, by its trace id (an answer
            stored before an interruption is graded with its finish reason and logprobs).
    """

    def __init__(
        self,
        suite: str,
        shared: SharedCalls,
        writer: CellWriter,
        threshold: float,
        judge_model: str | None,
        judge: Any,
        options: ScoringOptions,
        previous: Callable[
            [list[runs_repo.GradeWanted]],
            Awaitable[dict[runs_repo.GradeWanted, runs_repo.PreviousGrade]],
        ],
        facts: Callable[[str | None], Awaitable[AnswerFacts]] | None = None,
    ) -> None:
        self.suite = suite
        self.shared = shared
        self.writer = writer
        self.threshold = threshold
        self.judge_model = judge_model
        self.judge = judge
        self.options = options
        self.previous = previous
        self.facts = facts
        self._grading_keys: dict[tuple[str, float, str | None], str] = {}

    def grading_key(self, case: Case) -> str:
        """The case's grading key (hashed once a run: every model and repeat shares it)."""
        memo = (case.key, self.threshold, self.judge_model)
        key = self._grading_keys.get(memo)
        if key is None:
            key = self._grading_keys[memo] = grading_key(case, self.threshold, self.judge_model)
        return key

    def orphan(self, cell: PendingCell, cases: Sequence[Case]) -> tuple[CellResult, CellWrite]:
        """A cell whose case or prompt version is gone: an error, without a call."""
        known = {c.key for c in cases}
        error = (
            "the case is no longer in the suite file"
            if cell.case_key not in known
            else "unknown prompt version"
        )
        result = CellResult(
            self.suite,
            "?",
            cell.model,
            cell.case_key,
            cell.case_index,
            "?",
            repeat=cell.repeat,
            error=error,
        )
        write = CellWrite(
            cell.id, "error", None, None, None, error, "fresh", None, None, None, None, 0.0, None
        )
        return result, write

    async def run(self, cell: PendingCell, job: CellJob) -> tuple[CellResult, CellWrite]:
        """Call (or take the answer stored before), store the answer, grade, and return."""
        prompt, case = job.prompt, job.case
        base = CellResult(
            suite=self.suite,
            prompt=f"{prompt.name}@{prompt.version}",
            model=cell.model,
            case_key=case.key,
            case_index=case.index,
            case_source=case.source,
            case_description=case.description,
            repeat=cell.repeat,
        )
        if cell.answer is not None:  # answered before an interruption, not yet graded
            stored = cell.answer
            timing: Timing = (
                stored.trace_uid,
                stored.latency_ms,
                stored.ttft_ms,
                stored.tokens,
                stored.cost_usd,
            )
            facts = AnswerFacts(model=cell.model)
            if self.facts is not None and job.case.asserts:
                facts = await self.facts(stored.trace_uid)
            return await self._grade(
                cell,
                job,
                base,
                stored.output,
                timing,
                stored.source,
                None,
                stored.similarity,
                facts,
            )
        call, shared = await self.shared.call(job.key, job.spec)
        done = call.completion
        tokens = done.usage.total_tokens if done.usage else None
        # A call shared with another cell was paid for once, by that cell.
        cost = 0.0 if shared else (done.cost_usd or 0.0)
        timing = (call.trace_id, done.latency_ms, done.ttft_ms, tokens, cost)
        if done.error or done.text is None:
            error = done.error or "no answer"
            write = CellWrite(cell.id, "error", None, None, None, error, "fresh", *timing, None)
            result = replace(
                base,
                error=error,
                latency_ms=done.latency_ms,
                ttft_ms=done.ttft_ms,
                tokens=tokens,
                cost_usd=cost if not shared else 0.0,
            )
            return result, write
        from_cache = shared or call.cache in ("exact", "semantic")
        source: CellSource = "cached" if from_cache else "fresh"
        similarity = call.similarity if call.cache == "semantic" else None
        if similarity is not None:
            source = "semantic"  # another request's answer, whatever its grades
        # Stored at once, graded next: an interruption now does not lose what was paid for.
        self.writer.put(
            CellWrite(
                cell.id,
                "pending",
                done.text,
                None,
                None,
                None,
                source,
                *timing,
                None,
                (),
                similarity,
            )
        )
        return await self._grade(cell, job, base, done.text, timing, source, call, similarity)

    async def _grade(
        self,
        cell: PendingCell,
        job: CellJob,
        base: CellResult,
        output: str,
        timing: Timing,
        answered: str,
        call: CallResult | None,
        similarity: float | None = None,
        answer: AnswerFacts | None = None,
    ) -> tuple[CellResult, CellWrite]:
        case = job.case
        answer = answer or AnswerFacts(model=cell.model)
        trace, latency, ttft, tokens, cost = timing
        measured: dict[str, Any] = {  # set with the outcome: one copy of the result
            "latency_ms": latency,
            "ttft_ms": ttft,
            "tokens": tokens,
            "cost_usd": cost,
            "similarity": similarity,
        }
        from_cache = answered != "fresh"
        if not case.asserts:  # nothing to check: neither a pass nor a fail
            source: CellSource = "cached" if from_cache else "fresh"
            if similarity is not None:
                source = "semantic"
            write = CellWrite(
                cell.id, "done", output, None, None, None, source, *timing, None, (), similarity
            )
            result = replace(base, **measured, output=output, source=source, asserted=False)
            return result, write
        key = self.grading_key(case)
        previous: runs_repo.PreviousGrade | None = None
        if from_cache and call is not None:
            wanted = (job.identity, key, output)
            if job.kept is not None and job.kept_for == wanted:
                previous = job.kept
            else:
                previous = (await self.previous([wanted])).get(wanted)
        if previous is not None:
            scores: Sequence[Score] = tuple(score_from_row(r) for r in previous.scores)
            score, passed = previous.score, previous.passed
            if any(is_across(spec) for spec in case.asserts):
                # Graded across this run's outputs of the case at its end, not kept.
                scores = tuple(s for s in scores if s.type.removeprefix("not-") not in ACROSS)
                score, passed = case_score(scores, self.threshold)
            source = "cached"
        else:
            # The call's own cost (None when its price is unknown), not the share stored.
            meta = CallMeta(
                latency,
                call.completion.cost_usd if call else cost,
                tokens,
                job.user,
                call.completion.finish_reason if call else answer.finish_reason,
                call.completion.logprobs if call else answer.logprobs,
                (call.completion.answered_by if call else answer.model) or cell.model,
            )
            grade = await a_grade_case(
                case,
                output,
                meta,
                threshold=self.threshold,
                judge=self.judge,
                options=self.options,
            )
            scores, score, passed = grade.scores, grade.score, grade.passed
            source = "regraded" if from_cache else "fresh"
        if similarity is not None:
            source = "semantic"  # another request's answer, whatever became of its grades
        result = replace(
            base,
            **measured,
            output=output,
            scores=tuple(scores),
            score=score,
            passed=passed,
            source=source,
        )
        stored = tuple(
            ScoreWrite(s.name, s.type, s.value, s.passed, s.weight, s.reason or s.error)
            for s in scores
        )
        write = CellWrite(
            cell.id,
            "done",
            output,
            score,
            passed,
            None,
            source,
            trace,
            latency,
            ttft,
            tokens,
            cost,
            key,
            stored,
            similarity,
        )
        return result, write

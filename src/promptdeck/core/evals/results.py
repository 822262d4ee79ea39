"""Frozen records of eval results: one per finished cell, and the summary of a run.

A cell is one (prompt version, model, case, repeat) of a suite. Its ``error`` is set
when the call failed (errors are values and count apart from assertion failures);
``source`` says whether its output came from a fresh call, from the cache with its
old grades, from the cache re-graded, or from the semantic cache (another request's
answer, with its ``similarity``). :func:`summarize` folds cells into a
:class:`RunSummary` in one pass, keeping only counters, latencies and per-case
pass/fail lists in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from promptdeck.core.evals.stats import (
    Interval,
    LatencyPercentiles,
    flaky_cases,
    latency_percentiles,
    mean_by_metric,
    suite_pass_at_k,
    suite_pass_hat_k,
    wilson_interval,
)
from promptdeck.core.scorers.base import Score
from promptdeck.core.scorers.judged import judge_warning

__all__ = [
    "CellResult",
    "CellSource",
    "CellStatus",
    "GroupSummary",
    "RunSummary",
    "summarize",
]

CellSource = Literal["fresh", "cached", "regraded", "semantic"]
"""Where a cell's output and grades came from."""
CellStatus = Literal["pass", "fail", "error"]
"""A cell's outcome: its case passed, failed, or the call failed."""


@dataclass(frozen=True)
class CellResult:
    """One finished cell.

    Attributes:
        suite: The suite name.
        prompt: The prompt version as ``name@version``.
        model: The model name.
        case_key: The case's stable key.
        case_index: The case's position in the suite.
        case_description: The case's description, if any.
        case_source: Where the case is defined (``file:line``).
        repeat: The repeat number, from 0.
        output: The model's answer (``None`` when the call failed).
        scores: One score per assertion, in the case's order.
        score: The weighted case score (see ``promptdeck.core.scorers.case_score``).
        passed: Whether the case reached the suite threshold (False on error).
        error: Why the call failed, if it did.
        latency_ms: Wall time of the call.
        ttft_ms: Time to the first token, when streamed.
        tokens: Total tokens of the call.
        cost_usd: Cost of the call.
        source: ``fresh``, ``cached``, ``regraded``, or ``semantic`` (the answer to a
            trivially reworded request, served by the semantic cache and graded here).
        similarity: For a ``semantic`` cell, how similar the request it answered was.
    """

    suite: str
    prompt: str
    model: str
    case_key: str
    case_index: int
    case_source: str
    case_description: str | None = None
    repeat: int = 0
    output: str | None = None
    scores: tuple[Score, ...] = ()
    score: float = 0.0
    passed: bool = False
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    source: CellSource = "fresh"
    similarity: float | None = None

    @property
    def status(self) -> CellStatus:
        """``error`` when the call failed, else ``pass`` or ``fail``."""
        if self.error is not None:
            return "error"
        return "pass" if self.passed else "fail"

    @property
    def failed_scores(self) -> tuple[Score, ...]:
        """The scores that did not pass."""
        return tuple(s for s in self.scores if not s.passed)

    @property
    def label(self) -> str:
        """A short human name for the case: ``#index description`` (or the key)."""
        return f"#{self.case_index} {self.case_description or self.case_key}"

    @property
    def source_label(self) -> str:
        """The source for people: ``semantic 0.973`` for a semantic cell, else ``source``."""
        if self.source == "semantic" and self.similarity is not None:
            return f"semantic {self.similarity:.3f}"
        return self.source

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping with every field (``scores`` as mappings).

        ``similarity`` is there for ``semantic`` cells only.
        """
        data: dict[str, Any] = {
            "suite": self.suite,
            "prompt": self.prompt,
            "model": self.model,
            "case_key": self.case_key,
            "case_index": self.case_index,
            "case_source": self.case_source,
            "case_description": self.case_description,
            "repeat": self.repeat,
            "status": self.status,
            "source": self.source,
            "score": self.score,
            "passed": self.passed,
            "error": self.error,
            "output": self.output,
            "scores": [s.to_dict() for s in self.scores],
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
        }
        if self.similarity is not None:
            data["similarity"] = round(self.similarity, 6)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CellResult:
        """Rebuild a cell from :meth:`to_dict` output (``status`` is derived, so ignored)."""
        return cls(
            suite=data["suite"],
            prompt=data["prompt"],
            model=data["model"],
            case_key=data["case_key"],
            case_index=int(data["case_index"]),
            case_source=data["case_source"],
            case_description=data.get("case_description"),
            repeat=int(data.get("repeat", 0)),
            output=data.get("output"),
            scores=tuple(Score.from_dict(s) for s in data.get("scores", [])),
            score=float(data.get("score", 0.0)),
            passed=bool(data.get("passed", False)),
            error=data.get("error"),
            latency_ms=data.get("latency_ms"),
            ttft_ms=data.get("ttft_ms"),
            tokens=data.get("tokens"),
            cost_usd=data.get("cost_usd"),
            source=data.get("source", "fresh"),
            similarity=data.get("similarity"),
        )


def _interval_dict(interval: Interval) -> dict[str, Any]:
    return {
        "rate": round(interval.rate, 6),
        "low": round(interval.low, 6),
        "high": round(interval.high, 6),
        "passed": interval.successes,
        "total": interval.trials,
    }


def _latency_dict(latency: LatencyPercentiles) -> dict[str, Any]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {"p50": r(latency.p50), "p95": r(latency.p95), "p99": r(latency.p99)}


@dataclass(frozen=True)
class GroupSummary:
    """The results of one suite × prompt version × model.

    Attributes:
        suite: The suite name.
        prompt: The prompt version (``name@version``).
        model: The model.
        cells: Cells run.
        passed: Cells that passed.
        failed: Cells whose assertions failed.
        errors: Cells whose call failed.
        pass_rate: ``passed / cells`` (errors count as not passed) with its 95 % Wilson interval.
        metric_means: Mean score per metric name over graded cells.
        latency: Latency percentiles.
        tokens: Total tokens.
        cost_usd: Total cost.
        repeats: The largest number of repeats of a case.
        flaky: Keys of cases that both passed and failed across repeats.
        pass_at_k: Mean pass@k over cases with ``k = repeats`` (``None`` without repeats).
        pass_hat_k: Mean pass^k over cases with ``k = repeats`` (``None`` without repeats).
        sources: Cells per source (``fresh``, ``cached``, ``regraded``, ``semantic``).
    """

    suite: str
    prompt: str
    model: str
    cells: int
    passed: int
    failed: int
    errors: int
    pass_rate: Interval
    metric_means: dict[str, float]
    latency: LatencyPercentiles
    tokens: int
    cost_usd: float
    repeats: int = 1
    flaky: tuple[str, ...] = ()
    pass_at_k: float | None = None
    pass_hat_k: float | None = None
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping."""
        return {
            "suite": self.suite,
            "prompt": self.prompt,
            "model": self.model,
            "cells": self.cells,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "pass_rate": _interval_dict(self.pass_rate),
            "metric_means": {k: round(v, 6) for k, v in self.metric_means.items()},
            "latency_ms": _latency_dict(self.latency),
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 8),
            "repeats": self.repeats,
            "flaky": list(self.flaky),
            "pass_at_k": None if self.pass_at_k is None else round(self.pass_at_k, 6),
            "pass_hat_k": None if self.pass_hat_k is None else round(self.pass_hat_k, 6),
            "sources": dict(self.sources),
        }


@dataclass(frozen=True)
class RunSummary:
    """The summary of a run (one or more suites).

    Attributes:
        run_id: The run's id, if stored.
        groups: One summary per suite × prompt × model, in first-seen order.
        cells: Cells run.
        passed: Cells that passed.
        failed: Cells whose assertions failed.
        errors: Cells whose call failed.
        pass_rate: ``passed / cells`` with its 95 % Wilson interval.
        latency: Latency percentiles over all cells.
        tokens: Total tokens.
        cost_usd: Total cost.
        judge: The judge model of model-graded assertions, if any.
        started_at: When the run started (UTC), if known.
        finished_at: When it finished (UTC), if known.
    """

    run_id: str | None
    groups: tuple[GroupSummary, ...]
    cells: int
    passed: int
    failed: int
    errors: int
    pass_rate: Interval
    latency: LatencyPercentiles
    tokens: int
    cost_usd: float
    judge: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when every cell passed (and there was at least one)."""
        return self.cells > 0 and self.passed == self.cells

    @property
    def judge_warning(self) -> str | None:
        """The warning to show when the judge is a tiny local model."""
        return judge_warning(self.judge)

    @property
    def suites(self) -> tuple[str, ...]:
        """The suites in the run, in first-seen order."""
        return tuple(dict.fromkeys(g.suite for g in self.groups))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (datetimes as ISO 8601)."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "judge": self.judge,
            "judge_warning": self.judge_warning,
            "cells": self.cells,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "pass_rate": _interval_dict(self.pass_rate),
            "latency_ms": _latency_dict(self.latency),
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 8),
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass
class _Acc:
    cells: int = 0
    passed: int = 0
    errors: int = 0
    tokens: int = 0
    cost: float = 0.0
    latencies: list[float] = field(default_factory=list)
    metrics: list[tuple[str, float]] = field(default_factory=list)
    outcomes: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    sources: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, cell: CellResult) -> None:
        self.cells += 1
        self.passed += cell.status == "pass"
        self.errors += cell.status == "error"
        self.tokens += cell.tokens or 0
        self.cost += cell.cost_usd or 0.0
        self.sources[cell.source] += 1
        if cell.latency_ms is not None:
            self.latencies.append(cell.latency_ms)
        if cell.error is None:
            self.outcomes[cell.case_key].append(cell.passed)
            self.metrics.extend((s.name, s.value) for s in cell.scores if s.error is None)


def _group(key: tuple[str, str, str], acc: _Acc) -> GroupSummary:
    repeats = max((len(v) for v in acc.outcomes.values()), default=1)
    return GroupSummary(
        suite=key[0],
        prompt=key[1],
        model=key[2],
        cells=acc.cells,
        passed=acc.passed,
        failed=acc.cells - acc.passed - acc.errors,
        errors=acc.errors,
        pass_rate=wilson_interval(acc.passed, acc.cells),
        metric_means=mean_by_metric(acc.metrics),
        latency=latency_percentiles(acc.latencies),
        tokens=acc.tokens,
        cost_usd=acc.cost,
        repeats=repeats,
        flaky=tuple(flaky_cases(acc.outcomes)),
        pass_at_k=suite_pass_at_k(acc.outcomes, repeats) if repeats > 1 else None,
        pass_hat_k=suite_pass_hat_k(acc.outcomes, repeats) if repeats > 1 else None,
        sources=dict(sorted(acc.sources.items())),
    )


def summarize(
    cells: Iterable[CellResult],
    *,
    run_id: str | None = None,
    judge: str | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> RunSummary:
    """Fold cells into a run summary, in one pass.

    Args:
        cells: The run's cells, in any order (e.g. streamed from the database).
        run_id: The run's id.
        judge: The judge model, when the run had model-graded assertions.
        started_at: When the run started (UTC-aware).
        finished_at: When it finished (UTC-aware).

    Returns:
        Totals and one :class:`GroupSummary` per suite × prompt × model.
    """
    groups: dict[tuple[str, str, str], _Acc] = {}
    total = _Acc()
    for cell in cells:
        groups.setdefault((cell.suite, cell.prompt, cell.model), _Acc()).add(cell)
        total.cells += 1
        total.passed += cell.status == "pass"
        total.errors += cell.status == "error"
        total.tokens += cell.tokens or 0
        total.cost += cell.cost_usd or 0.0
        if cell.latency_ms is not None:
            total.latencies.append(cell.latency_ms)
    return RunSummary(
        run_id=run_id,
        groups=tuple(_group(key, acc) for key, acc in groups.items()),
        cells=total.cells,
        passed=total.passed,
        failed=total.cells - total.passed - total.errors,
        errors=total.errors,
        pass_rate=wilson_interval(total.passed, total.cells),
        latency=latency_percentiles(total.latencies),
        tokens=total.tokens,
        cost_usd=total.cost,
        judge=judge,
        started_at=started_at,
        finished_at=finished_at,
    )

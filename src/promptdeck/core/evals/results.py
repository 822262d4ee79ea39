"""Frozen records of eval results: one per finished cell, and the summary of a run.

The cell record lives in :mod:`promptdeck.core.evals.cell` and is exported here too.
:func:`summarize` folds cells into a :class:`RunSummary` in one pass, keeping only
counters, latencies and per-case pass/fail lists in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from promptdeck.core.evals.cell import UNCHECKED, CellResult, CellSource, CellStatus, cell_label
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
from promptdeck.core.scorers.judged import judge_warning

__all__ = [
    "UNCHECKED",
    "CellResult",
    "CellSource",
    "CellStatus",
    "GroupSummary",
    "RunSummary",
    "cell_label",
    "counts_summary",
    "summarize",
]


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
        pass_rate: ``passed / (cells - unchecked)`` (errors count as not passed) with its
            95 % Wilson interval.
        metric_means: Mean score per metric name over graded cells.
        latency: Latency percentiles.
        tokens: Total tokens.
        cost_usd: Total cost.
        repeats: The largest number of repeats of a case.
        flaky: Keys of cases that both passed and failed across repeats.
        pass_at_k: Mean pass@k over cases with ``k = repeats`` (``None`` without repeats).
        pass_hat_k: Mean pass^k over cases with ``k = repeats`` (``None`` without repeats).
        sources: Cells per source (``fresh``, ``cached``, ``regraded``, ``semantic``).
        unchecked: Cells of cases without assertions (neither passed nor failed).
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
    unchecked: int = 0

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
            "unchecked": self.unchecked,
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
        pass_rate: ``passed / (cells - unchecked)`` with its 95 % Wilson interval.
        latency: Latency percentiles over all cells.
        tokens: Total tokens.
        cost_usd: Total cost.
        judge: The judge model of model-graded assertions, if any.
        started_at: When the run started (UTC), if known.
        finished_at: When it finished (UTC), if known.
        unchecked: Cells of cases without assertions (neither passed nor failed).
        status: The stored run's status (``finished``, ``interrupted``…), if known.
        total_cells: The cells the run planned, if known (more than ``cells`` when it
            did not finish).
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
    unchecked: int = 0
    status: str | None = None
    total_cells: int | None = None

    @property
    def ok(self) -> bool:
        """True when every checked cell passed (and at least one was checked)."""
        return self.passed > 0 and self.passed == self.cells - self.unchecked

    @property
    def incomplete(self) -> bool:
        """True for a stored run that did not finish every cell."""
        unfinished = self.status is not None and self.status != "finished"
        return unfinished or (self.total_cells or 0) > self.cells

    @property
    def state(self) -> str:
        """``finished``, or e.g. ``interrupted (12 of 40 cells)`` for an incomplete run."""
        if not self.incomplete:
            return self.status or "finished"
        total = self.total_cells if self.total_cells is not None else self.cells
        return f"{self.status or 'stopped'} ({self.cells} of {total} cells)"

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
            "status": self.status,
            "total_cells": self.total_cells,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "judge": self.judge,
            "judge_warning": self.judge_warning,
            "cells": self.cells,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "unchecked": self.unchecked,
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
    unchecked: int = 0
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
        self.unchecked += cell.status == UNCHECKED
        self.tokens += cell.tokens or 0
        self.cost += cell.cost_usd or 0.0
        self.sources[cell.source] += 1
        if cell.latency_ms is not None:
            self.latencies.append(cell.latency_ms)
        if cell.error is None and cell.asserted:
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
        failed=acc.cells - acc.passed - acc.errors - acc.unchecked,
        errors=acc.errors,
        pass_rate=wilson_interval(acc.passed, acc.cells - acc.unchecked),
        metric_means=mean_by_metric(acc.metrics),
        latency=latency_percentiles(acc.latencies),
        tokens=acc.tokens,
        cost_usd=acc.cost,
        repeats=repeats,
        flaky=tuple(flaky_cases(acc.outcomes)),
        pass_at_k=suite_pass_at_k(acc.outcomes, repeats) if repeats > 1 else None,
        pass_hat_k=suite_pass_hat_k(acc.outcomes, repeats) if repeats > 1 else None,
        sources=dict(sorted(acc.sources.items())),
        unchecked=acc.unchecked,
    )


def summarize(
    cells: Iterable[CellResult],
    *,
    run_id: str | None = None,
    judge: str | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    status: str | None = None,
    total_cells: int | None = None,
) -> RunSummary:
    """Fold cells into a run summary, in one pass.

    Args:
        cells: The run's cells, in any order (e.g. streamed from the database).
        run_id: The run's id.
        judge: The judge model, when the run had model-graded assertions.
        started_at: When the run started (UTC-aware).
        finished_at: When it finished (UTC-aware).
        status: The stored run's status.
        total_cells: The cells the run planned.

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
        total.unchecked += cell.status == UNCHECKED
        total.tokens += cell.tokens or 0
        total.cost += cell.cost_usd or 0.0
        if cell.latency_ms is not None:
            total.latencies.append(cell.latency_ms)
    return RunSummary(
        run_id=run_id,
        groups=tuple(_group(key, acc) for key, acc in groups.items()),
        cells=total.cells,
        passed=total.passed,
        failed=total.cells - total.passed - total.errors - total.unchecked,
        errors=total.errors,
        pass_rate=wilson_interval(total.passed, total.cells - total.unchecked),
        latency=latency_percentiles(total.latencies),
        tokens=total.tokens,
        cost_usd=total.cost,
        judge=judge,
        started_at=started_at,
        finished_at=finished_at,
        unchecked=total.unchecked,
        status=status,
        total_cells=total_cells,
    )


def counts_summary(counts: dict[str, int], *, run_id: str, status: str) -> RunSummary:
    """A run's summary from its cell counts alone (no groups, latencies or tokens).

    For the moment a run is interrupted: reading back every cell would delay the stop.

    Args:
        counts: The run's cell counts (see ``runs_repo.cell_counts``).
        run_id: The run's uid.
        status: The run's status.
    """
    done = counts["total"] - counts["pending"]
    empty = summarize([], run_id=run_id, status=status, total_cells=counts["total"])
    return replace(
        empty,
        cells=done,
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["errors"],
        unchecked=counts["unchecked"],
        cost_usd=counts["cost_micro"] / 1_000_000,
        pass_rate=wilson_interval(counts["passed"], done - counts["unchecked"]),
    )

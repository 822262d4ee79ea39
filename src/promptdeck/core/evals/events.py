"""What a run reports while it runs, and what it gives back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from promptdeck.core.evals.results import UNCHECKED, CellResult, RunSummary

__all__ = [
    "CellFinished",
    "Progress",
    "Reporter",
    "RunFinished",
    "RunOutcome",
    "RunStarted",
]


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
    unpriced: tuple[str, ...] = ()
    """Models whose calls have no known price (not in ``estimated_cost``)."""


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
    unchecked: int = 0


@dataclass(frozen=True)
class RunFinished:
    """Reported when the run ends (finished, stopped, interrupted, or left to another process)."""

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
    cells: Sequence[CellResult] = field(default_factory=list)
    """Its finished cells in cell order (a big run's are read back as they are used)."""
    stopped_reason: str | None = None


@dataclass
class Progress:
    """A run's running totals, as it reports them after each cell."""

    total: int
    done: int
    passed: int
    failed: int
    errors: int
    unchecked: int
    cost: float

    def add(self, cell: CellResult) -> None:
        """Count a finished cell."""
        self.done += 1
        self.cost += cell.cost_usd or 0.0
        if cell.error is not None:
            self.errors += 1
        elif cell.status == UNCHECKED:
            self.unchecked += 1
        elif cell.passed:
            self.passed += 1
        else:
            self.failed += 1

    def event(self, cell: CellResult, elapsed: float) -> CellFinished:
        """The event reporting ``cell``, with the totals so far."""
        return CellFinished(
            cell,
            self.done,
            self.total,
            self.passed,
            self.failed,
            self.errors,
            self.cost,
            elapsed,
            self.unchecked,
        )

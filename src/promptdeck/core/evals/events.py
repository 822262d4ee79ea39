"""What a run reports while it runs, and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from promptdeck.core.evals.results import CellResult, RunSummary

__all__ = ["CellFinished", "Reporter", "RunFinished", "RunOutcome", "RunStarted"]


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
    cells: list[CellResult] = field(default_factory=list)
    stopped_reason: str | None = None

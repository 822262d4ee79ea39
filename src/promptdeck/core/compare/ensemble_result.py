"""What an ensemble call decided, and from what: the records the front ends show.

:func:`~promptdeck.core.compare.ensembles.run_ensemble` makes them; the compare grid, ``run
--json`` and ``compare --json`` read them (:func:`ensemble_summary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptdeck.core.gateway.spec import CallResult

__all__ = ["EnsembleResult", "MemberAnswer", "ensemble_summary"]


@dataclass(frozen=True)
class MemberAnswer:
    """One member's outcome.

    Attributes:
        member: The member's model name.
        result: Its gateway call (answer or error, trace id, cache state).
    """

    member: str
    result: CallResult

    @property
    def ok(self) -> bool:
        """True when the member answered."""
        return self.result.completion.ok


@dataclass(frozen=True)
class EnsembleResult:
    """What an ensemble call decided, and from what.

    Attributes:
        name: The ensemble's name.
        strategy: Its strategy.
        result: The ensemble's own call result (final answer, summed usage and cost).
        members: Every member's outcome, in configuration order.
        answered: Members that answered, in order (the rows of ``matrix``).
        matrix: Pairwise cosine similarity of the answers (consensus only).
        agreement: The agreement score (consensus: mean similarity; majority: share
            of the winning vote), None for the judge strategy.
        chosen: Members whose answer the final one is (or, for a judge, cites).
        requires_review: True when a person should decide.
        decision: One line saying what was decided and why.
    """

    name: str
    strategy: str
    result: CallResult
    members: tuple[MemberAnswer, ...]
    answered: tuple[str, ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    agreement: float | None = None
    chosen: tuple[str, ...] = ()
    requires_review: bool = False
    decision: str = ""

    @property
    def failed(self) -> tuple[MemberAnswer, ...]:
        """Members that did not answer."""
        return tuple(m for m in self.members if not m.ok)


def ensemble_summary(result: EnsembleResult) -> dict[str, Any]:
    """What an ensemble decided, as JSON: strategy, agreement, decision, every member's answer.

    ``run --json`` and ``compare --json`` print it under ``ensemble``.
    """
    return {
        "name": result.name,
        "strategy": result.strategy,
        "agreement": result.agreement,
        "requires_review": result.requires_review,
        "decision": result.decision,
        "chosen": list(result.chosen),
        "answered": list(result.answered),
        "matrix": [list(row) for row in result.matrix],
        "members": [
            {
                "model": m.member,
                "text": m.result.completion.text,
                "error": m.result.completion.error,
                "latency_ms": round(m.result.completion.latency_ms, 3),
                "prompt_tokens": m.result.completion.usage.prompt_tokens,
                "completion_tokens": m.result.completion.usage.completion_tokens,
                "total_tokens": m.result.completion.usage.total_tokens,
                "cost_usd": m.result.completion.cost_usd,
                "cache": m.result.cache,
                "trace_id": m.result.trace_id,
            }
            for m in result.members
        ],
    }

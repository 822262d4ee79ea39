"""One finished cell of an eval run, as a frozen record.

A cell is one (prompt version, model, case, repeat) of a suite. Its ``error`` is set
when the call failed (errors are values and count apart from assertion failures);
``source`` says whether its output came from a fresh call, from the cache with its
old grades, from the cache re-graded, or from the semantic cache (another request's
answer, with its ``similarity``); a case without assertions is checked by
nothing, so its cell is neither a pass nor a fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from promptdeck.core.scorers.base import Score
from promptdeck.secrecy import scrub

__all__ = ["UNCHECKED", "CellResult", "CellSource", "CellStatus", "cell_label"]

CellSource = Literal["fresh", "cached", "regraded", "semantic"]
"""Where a cell's output and grades came from."""
CellStatus = Literal["pass", "fail", "error", "no assertions"]
"""A cell's outcome: its case passed, failed, the call failed, or the case checks nothing."""

UNCHECKED: CellStatus = "no assertions"
"""The outcome of a cell whose case has no assertions: it neither passes nor fails."""


def cell_label(case_index: int, repeat: int, description: str | None = None) -> str:
    """How reports name a cell: ``case-3 #r2`` and the case's description, if any."""
    return f"case-{case_index} #r{repeat}" + (f" {description}" if description else "")


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
        passed: Whether the case reached the suite threshold (False on error, and
            for a case without assertions).
        error: Why the call failed, if it did.
        latency_ms: Wall time of the call.
        ttft_ms: Time to the first token, when streamed.
        tokens: Total tokens of the call.
        cost_usd: Cost of the call.
        source: ``fresh``, ``cached``, ``regraded``, or ``semantic`` (the answer to a
            trivially reworded request, served by the semantic cache and graded here).
        asserted: False when the case has no assertions: nothing was checked, and
            its status is ``no assertions`` rather than a pass.
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
    asserted: bool = True
    similarity: float | None = None

    def __post_init__(self) -> None:
        # Every report (JSON, JSONL, JUnit, Markdown, HTML) and screen renders cells:
        # their answers and errors are scrubbed of keys here, once (promptdeck.secrecy).
        if self.output:
            object.__setattr__(self, "output", scrub(self.output))
        if self.error:
            object.__setattr__(self, "error", scrub(self.error))

    @property
    def status(self) -> CellStatus:
        """``error`` when the call failed, ``no assertions``, else ``pass`` or ``fail``."""
        if self.error is not None:
            return "error"
        if not self.asserted:
            return UNCHECKED
        return "pass" if self.passed else "fail"

    @property
    def failed_scores(self) -> tuple[Score, ...]:
        """The scores that did not pass."""
        return tuple(s for s in self.scores if not s.passed)

    @property
    def label(self) -> str:
        """A short human name for the cell: ``case-3 #r2`` and its case's description."""
        return cell_label(self.case_index, self.repeat, self.case_description)

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
            asserted=data.get("status") != UNCHECKED,
            similarity=data.get("similarity"),
        )

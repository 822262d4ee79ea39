"""What a guard suite's run measured: precision, recall and F1 per scanner, and the FPR.

:func:`~promptdeck.core.guardrails.suites.run_guard_suite` makes a :class:`GuardReport`;
the CLI prints it and the Guardrails screen shows the last one kept of each suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from promptdeck.timeutil import utcnow

__all__ = ["GuardReport", "ScannerMetrics"]


@dataclass(frozen=True)
class ScannerMetrics:
    """How one scanner did on a suite."""

    scanner: str
    cases: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        """Share of flags that were expected (None: nothing flagged)."""
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        """Share of expected flags raised (None: no positive case)."""
        positives = self.tp + self.fn
        return self.tp / positives if positives else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping with the derived rates."""
        data: dict[str, Any] = asdict(self)
        for key in ("precision", "recall", "f1"):
            value = getattr(self, key)
            data[key] = None if value is None else round(value, 4)
        return data


@dataclass(frozen=True)
class GuardReport:
    """A guard suite's results.

    Attributes:
        suite: The suite's name.
        scanners: Metrics per scanner.
        benign: Benign cases (every expectation false).
        benign_flagged: Benign cases some scanner flagged.
        failures: Thresholds of the file that were not met (empty: passed).
        misses: ``(source, scanner, expected)`` of each wrong verdict.
        finished_at: When the run finished (ISO-8601, UTC).
    """

    suite: str
    scanners: tuple[ScannerMetrics, ...]
    benign: int
    benign_flagged: int
    failures: tuple[str, ...] = ()
    misses: tuple[tuple[str, str, bool], ...] = ()
    finished_at: str = field(default_factory=lambda: utcnow().isoformat())

    @property
    def fpr(self) -> float | None:
        """False-positive rate on benign cases (None: no benign case)."""
        return self.benign_flagged / self.benign if self.benign else None

    @property
    def passed(self) -> bool:
        """True when every threshold of the file was met."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "suite": self.suite,
            "passed": self.passed,
            "scanners": {m.scanner: m.to_dict() for m in self.scanners},
            "benign": self.benign,
            "benign_flagged": self.benign_flagged,
            "fpr": None if self.fpr is None else round(self.fpr, 4),
            "failures": list(self.failures),
            "misses": [
                {"source": source, "scanner": scanner, "expected": expected}
                for source, scanner, expected in self.misses
            ],
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardReport:
        """Rebuild a report from :meth:`to_dict` output."""
        keys = ("scanner", "cases", "tp", "fp", "fn", "tn")
        return cls(
            suite=str(data["suite"]),
            scanners=tuple(
                ScannerMetrics(**{k: m[k] for k in keys}) for m in data["scanners"].values()
            ),
            benign=int(data["benign"]),
            benign_flagged=int(data["benign_flagged"]),
            failures=tuple(data.get("failures", ())),
            misses=tuple(
                (m["source"], m["scanner"], m["expected"]) for m in data.get("misses", ())
            ),
            finished_at=str(data.get("finished_at", "")),
        )

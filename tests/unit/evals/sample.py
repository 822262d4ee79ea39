"""A fixed, hand-made run used by the results and report tests."""

from __future__ import annotations

from datetime import UTC, datetime

from promptdeck.core.evals.results import CellResult, RunSummary, summarize
from promptdeck.core.scorers import Score

STARTED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
FINISHED = datetime(2026, 11, 22, 9, 31, 5, tzinfo=UTC)
LOCAL = "local/smollm2-135m"
REMOTE = "openai/gpt-4o-mini"
PROMPT = "customer-support@3"


def _ok(name: str, kind: str, value: float = 1.0, weight: float = 1.0) -> Score:
    return Score(name, kind, value, True, f"{kind} holds", weight)


def _bad(name: str, kind: str, reason: str, value: float = 0.0) -> Score:
    return Score(name, kind, value, False, reason)


def _cell(model: str, index: int, repeat: int, **kwargs: object) -> CellResult:
    base: dict[str, object] = {
        "suite": "support",
        "prompt": PROMPT,
        "model": model,
        "case_key": f"suites/support.suite.yaml#case{index}",
        "case_index": index,
        "case_source": f"suites/support.suite.yaml:{30 + 8 * index}",
        "case_description": ["Explains how to get a refund", "Escalates data loss"][index],
        "repeat": repeat,
        "output": "Sure, we can refund you.",
        "scores": (_ok("icontains", "icontains"), _ok("g-eval", "g-eval", 0.8)),
        "score": 1.0,
        "passed": True,
        "latency_ms": 100.0 * (1 + index + repeat),
        "ttft_ms": 20.0,
        "tokens": 50,
        "cost_usd": 0.0,
    }
    base.update(kwargs)
    return CellResult(**base)  # type: ignore[arg-type]


def sample_cells() -> list[CellResult]:
    """Two models, two cases, two repeats on the local model; a failure, an error, a flaky case."""
    failing = (
        _ok("icontains", "icontains"),
        _bad("contains-any", "contains-any", "contains none of 'human, engineer'"),
        _bad("g-eval", "g-eval", "score 0.20 < 0.5: The reply ignores the data loss.", 0.2),
    )
    return [
        _cell(LOCAL, 0, 0),
        _cell(LOCAL, 0, 1, source="cached"),
        _cell(LOCAL, 1, 0, scores=failing, score=1 / 3, passed=False, output="Try again later."),
        _cell(LOCAL, 1, 1, source="regraded"),
        _cell(REMOTE, 0, 0, cost_usd=0.00012, tokens=80),
        _cell(
            REMOTE,
            1,
            0,
            output=None,
            scores=(),
            score=0.0,
            passed=False,
            error="RateLimitError: 429 Too Many Requests",
            latency_ms=None,
            tokens=None,
            cost_usd=None,
        ),
    ]


def sample_summary() -> RunSummary:
    """The summary of :func:`sample_cells`, with fixed times and a tiny local judge."""
    return summarize(
        sample_cells(),
        run_id="run-0001",
        judge=LOCAL,
        started_at=STARTED,
        finished_at=FINISHED,
    )

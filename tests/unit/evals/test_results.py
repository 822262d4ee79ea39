"""Cell records and run summaries."""

from __future__ import annotations

import pytest

from promptdeck.core.evals.results import CellResult, summarize

from .sample import LOCAL, REMOTE, sample_cells, sample_summary


def test_cell_status_and_round_trip() -> None:
    cells = sample_cells()
    assert [c.status for c in cells] == ["pass", "pass", "fail", "pass", "pass", "error"]
    for cell in cells:
        assert CellResult.from_dict(cell.to_dict()) == cell
    assert [s.name for s in cells[2].failed_scores] == ["contains-any", "g-eval"]
    assert cells[2].label == "case-1 #r0 Escalates data loss"


def test_summary_totals() -> None:
    summary = sample_summary()
    assert (summary.cells, summary.passed, summary.failed, summary.errors) == (6, 4, 1, 1)
    assert summary.pass_rate.rate == pytest.approx(4 / 6)
    assert summary.tokens == 5 * 50 + 30
    assert summary.cost_usd == pytest.approx(0.00012)
    assert summary.suites == ("support",)
    assert not summary.ok
    assert summary.judge_warning is not None and LOCAL in summary.judge_warning
    # latencies 100, 200, 200, 300, 100 (the error has none)
    assert summary.latency.p50 == pytest.approx(200.0)
    assert summary.latency.count == 5


def test_group_summaries() -> None:
    local, remote = sample_summary().groups
    assert (local.model, remote.model) == (LOCAL, REMOTE)
    assert (local.cells, local.passed, local.failed, local.errors) == (4, 3, 1, 0)
    assert local.repeats == 2
    assert local.flaky == ("suites/support.suite.yaml#case1",)
    # case0: 2/2 -> pass@2 = 1, pass^2 = 1; case1: 1/2 -> pass@2 = 1, pass^2 = 0
    assert local.pass_at_k == pytest.approx(1.0)
    assert local.pass_hat_k == pytest.approx(0.5)
    assert local.metric_means["g-eval"] == pytest.approx((0.8 * 3 + 0.2) / 4)
    assert local.metric_means["contains-any"] == pytest.approx(0.0)
    assert local.sources == {"cached": 1, "fresh": 2, "regraded": 1}
    assert (remote.cells, remote.passed, remote.errors, remote.repeats) == (2, 1, 1, 1)
    assert remote.pass_at_k is None and remote.flaky == ()


def test_an_empty_run() -> None:
    summary = summarize([])
    assert summary.cells == 0 and not summary.ok and summary.groups == ()
    assert summary.judge_warning is None

"""Statistics against values worked out by hand (or from published tables)."""

from __future__ import annotations

import pytest

from promptdeck.core.evals.stats import (
    flaky_cases,
    latency_percentiles,
    mcnemar_exact,
    mean_by_metric,
    pass_at_k,
    pass_hat_k,
    percentile,
    suite_pass_at_k,
    suite_pass_hat_k,
    wilson_interval,
)

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # p = 0.8, z² = 3.8415: centre 0.7167, margin 0.2266
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_interval(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, trials)
    assert interval.rate == pytest.approx(successes / trials)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)
    assert (interval.successes, interval.trials) == (successes, trials)


def test_wilson_edge_cases() -> None:
    empty = wilson_interval(0, 0)
    assert (empty.rate, empty.low, empty.high) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_percentile_interpolates_linearly() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)  # h = 2.85
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_latency_percentiles_ignore_unknown_latencies() -> None:
    latency = latency_percentiles([100.0, None, 300.0, 200.0])
    assert (latency.p50, latency.count) == (200.0, 3)
    assert latency.p95 == pytest.approx(290.0)
    assert latency.p99 == pytest.approx(298.0)
    assert latency_percentiles([]).p50 is None


def test_mean_by_metric() -> None:
    means = mean_by_metric([("b", 1.0), ("a", 0.5), ("b", 0.0), ("a", 0.25)])
    assert means == {"a": pytest.approx(0.375), "b": pytest.approx(0.5)}
    assert list(means) == ["a", "b"]


@pytest.mark.parametrize(
    ("n", "c", "k", "at", "hat"),
    [
        (5, 2, 1, 0.4, 0.4),
        (5, 2, 2, 1 - 3 / 10, 1 / 10),  # C(3,2)/C(5,2) = 3/10; C(2,2)/C(5,2) = 1/10
        (5, 4, 2, 1.0, 6 / 10),  # n - c < k; C(4,2)/C(5,2)
        (3, 0, 3, 0.0, 0.0),
        (3, 3, 3, 1.0, 1.0),
        (10, 3, 5, 1 - 21 / 252, 0.0),  # C(7,5)/C(10,5) = 21/252
    ],
)
def test_pass_at_k_and_pass_hat_k(n: int, c: int, k: int, at: float, hat: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(at)
    assert pass_hat_k(n, c, k) == pytest.approx(hat)


def test_pass_at_k_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_hat_k(3, 1, 4)


def test_suite_level_pass_at_k_averages_cases() -> None:
    outcomes = {"a": [True, False, False, False, True], "b": [True] * 5, "c": [False]}
    # a: n=5, c=2 -> pass@2 = 0.7, pass^2 = 0.1; b: 1 and 1; c has too few repeats
    assert suite_pass_at_k(outcomes, 2) == pytest.approx((0.7 + 1.0) / 2)
    assert suite_pass_hat_k(outcomes, 2) == pytest.approx((0.1 + 1.0) / 2)
    assert suite_pass_at_k({"c": [False]}, 2) is None


def test_flaky_cases() -> None:
    outcomes = {"a": [True, False], "b": [True, True], "c": [False, False], "d": [False, True]}
    assert flaky_cases(outcomes) == ["a", "d"]


def test_mcnemar_exact_by_hand() -> None:
    # 1 regression, 9 improvements, 1 pair passing in both and 1 failing in both.
    a = {**{f"r{i}": True for i in range(1)}, **{f"i{i}": False for i in range(9)}}
    a |= {"pp": True, "ff": False}
    b = {**{f"r{i}": False for i in range(1)}, **{f"i{i}": True for i in range(9)}}
    b |= {"pp": True, "ff": False, "only-in-b": True}
    test = mcnemar_exact(a, b)
    assert (test.regressions, test.improvements, test.both_pass, test.both_fail) == (1, 9, 1, 1)
    # m = 10: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
    assert test.p_value == pytest.approx(22 / 1024)
    assert test.significant
    assert test.pairs == 12


@pytest.mark.parametrize(
    ("regressions", "improvements", "p_value"),
    [(0, 5, 2 / 32), (0, 0, 1.0), (3, 3, 1.0), (0, 6, 2 / 64), (2, 8, 2 * 56 / 1024)],
)
def test_mcnemar_p_values(regressions: int, improvements: int, p_value: float) -> None:
    a = {f"r{i}": True for i in range(regressions)} | {f"i{i}": False for i in range(improvements)}
    b = {f"r{i}": False for i in range(regressions)} | {f"i{i}": True for i in range(improvements)}
    test = mcnemar_exact(a, b)
    assert test.p_value == pytest.approx(p_value)
    assert test.significant is (p_value < 0.05)

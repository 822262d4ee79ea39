"""Statistics of eval runs: intervals, percentiles, pass@k, flakiness and paired tests.

Pure Python (no numpy), exact where it matters: the McNemar test sums binomial
terms exactly, pass@k uses the unbiased combinatorial estimator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "Z_95",
    "Interval",
    "LatencyPercentiles",
    "PairedTest",
    "flaky_cases",
    "latency_percentiles",
    "mcnemar_exact",
    "mean_by_metric",
    "pass_at_k",
    "pass_hat_k",
    "percentile",
    "suite_pass_at_k",
    "suite_pass_hat_k",
    "wilson_interval",
]

Z_95 = 1.959963984540054
"""The two-sided 95 % quantile of the standard normal distribution."""

_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True)
class Interval:
    """A proportion with its confidence interval.

    Attributes:
        rate: The observed proportion ``successes / trials`` (0 when there are no trials).
        low: The lower bound.
        high: The upper bound.
        successes: The number of successes.
        trials: The number of trials.
    """

    rate: float
    low: float
    high: float
    successes: int
    trials: int


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval:
    """Wilson score interval for a binomial proportion.

    With ``p = s / n``::

        centre = (p + z²/2n) / (1 + z²/n)
        margin = z / (1 + z²/n) * sqrt(p(1 - p)/n + z²/4n²)

    and the interval is ``centre ± margin``, clipped to [0, 1]. With no trials the
    interval is [0, 1].

    Args:
        successes: Passed trials.
        trials: All trials.
        z: The normal quantile (1.96 for 95 %).

    Returns:
        The rate and its interval.

    Raises:
        ValueError: When ``successes`` is not between 0 and ``trials``.
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return Interval(0.0, 0.0, 1.0, 0, 0)
    n = trials
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    margin = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(p, max(0.0, centre - margin), min(1.0, centre + margin), successes, trials)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation between order statistics.

    With the values sorted as ``x_0 <= ... <= x_{n-1}``, ``h = (n - 1) * q / 100``
    and the result is ``x_⌊h⌋ + (h - ⌊h⌋)(x_⌊h⌋+1 - x_⌊h⌋)`` (numpy's default
    "linear" method).

    Args:
        values: The sample.
        q: The percentile, 0 to 100.

    Returns:
        The percentile, or ``None`` for an empty sample.
    """
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True)
class LatencyPercentiles:
    """Latency percentiles in milliseconds (``None`` when nothing was measured).

    Attributes:
        p50: The median.
        p95: The 95th percentile.
        p99: The 99th percentile.
        count: The number of measured calls.
    """

    p50: float | None
    p95: float | None
    p99: float | None
    count: int


def latency_percentiles(latencies: Iterable[float | None]) -> LatencyPercentiles:
    """Return p50, p95 and p99 of the known latencies (see :func:`percentile`)."""
    known = [float(v) for v in latencies if v is not None]
    return LatencyPercentiles(
        percentile(known, 50), percentile(known, 95), percentile(known, 99), len(known)
    )


def mean_by_metric(scores: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Mean value per metric name: ``mean_m = sum(v for (m, v)) / count(m)``.

    Args:
        scores: ``(metric name, value)`` pairs.

    Returns:
        The mean per name, names sorted.
    """
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, value in scores:
        sums[name] += value
        counts[name] += 1
    return {name: sums[name] / counts[name] for name in sorted(sums)}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator of pass@k: the chance that at least one of k samples passes.

    From ``n`` samples of which ``c`` passed (Chen et al., 2021)::

        pass@k = 1 - C(n - c, k) / C(n, k)

    which is 1 when ``n - c < k`` (every k-subset holds a pass).

    Raises:
        ValueError: When not ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    _check_counts(n, c, k)
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator of pass^k: the chance that all of k samples pass.

    From ``n`` samples of which ``c`` passed (Yao et al., 2024, τ-bench)::

        pass^k = C(c, k) / C(n, k)

    Raises:
        ValueError: When not ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    _check_counts(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check_counts(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def _per_case(
    outcomes: Mapping[_K, Sequence[bool]], k: int, fn: Callable[[int, int, int], float]
) -> float | None:
    values = [fn(len(runs), sum(runs), k) for runs in outcomes.values() if len(runs) >= k]
    return sum(values) / len(values) if values else None


def suite_pass_at_k(outcomes: Mapping[_K, Sequence[bool]], k: int) -> float | None:
    """Mean pass@k over cases: ``(1/|cases|) * sum_case pass@k(n_case, c_case, k)``.

    Args:
        outcomes: Per case, the pass/fail of each repeat.
        k: The number of attempts.

    Returns:
        The mean over cases with at least ``k`` repeats, or ``None`` if none has.
    """
    return _per_case(outcomes, k, pass_at_k)


def suite_pass_hat_k(outcomes: Mapping[_K, Sequence[bool]], k: int) -> float | None:
    """Mean pass^k over cases: ``(1/|cases|) * sum_case pass^k(n_case, c_case, k)``.

    Args:
        outcomes: Per case, the pass/fail of each repeat.
        k: The number of attempts.

    Returns:
        The mean over cases with at least ``k`` repeats, or ``None`` if none has.
    """
    return _per_case(outcomes, k, pass_hat_k)


def flaky_cases(outcomes: Mapping[_K, Sequence[bool]]) -> list[_K]:
    """The cases that both passed and failed across their repeats, in input order.

    The flakiness rate of a run is ``len(flaky_cases(o)) / len(o)``.
    """
    return [case for case, runs in outcomes.items() if any(runs) and not all(runs)]


@dataclass(frozen=True)
class PairedTest:
    """An exact McNemar test of two runs over the same cases.

    Attributes:
        both_pass: Cases that passed in both runs.
        both_fail: Cases that failed in both runs.
        regressions: Cases that passed in A and fail in B (``b``).
        improvements: Cases that failed in A and pass in B (``c``).
        p_value: The two-sided exact p-value.
        alpha: The significance level.
    """

    both_pass: int
    both_fail: int
    regressions: int
    improvements: int
    p_value: float
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """True when the difference in pass rate is significant at ``alpha``."""
        return self.p_value < self.alpha

    @property
    def pairs(self) -> int:
        """The number of paired cases."""
        return self.both_pass + self.both_fail + self.regressions + self.improvements


def mcnemar_exact(a: Mapping[_K, bool], b: Mapping[_K, bool], alpha: float = 0.05) -> PairedTest:
    """Exact McNemar (sign) test on the discordant pairs of two runs.

    Only cases present in both runs are paired. With ``b`` cases passing only in
    run A, ``c`` only in run B and ``m = b + c``, under the null hypothesis each
    discordant pair is a fair coin, so::

        p = min(1, 2 * sum_{i=0}^{min(b, c)} C(m, i) / 2^m)

    and ``p = 1`` when there is no discordant pair.

    Args:
        a: Pass/fail per case in the first (baseline) run.
        b: Pass/fail per case in the second run.
        alpha: The significance level.

    Returns:
        The counts and the p-value.
    """
    both_pass = both_fail = regressions = improvements = 0
    for key, passed_a in a.items():
        if key not in b:
            continue
        passed_b = b[key]
        if passed_a and passed_b:
            both_pass += 1
        elif passed_a:
            regressions += 1
        elif passed_b:
            improvements += 1
        else:
            both_fail += 1
    m = regressions + improvements
    if m == 0:
        p_value = 1.0
    else:
        tail = sum(math.comb(m, i) for i in range(min(regressions, improvements) + 1))
        p_value = min(1.0, 2 * tail / 2**m)
    return PairedTest(both_pass, both_fail, regressions, improvements, p_value, alpha)

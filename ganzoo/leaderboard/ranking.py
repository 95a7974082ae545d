"""The leaderboard's statistics: per-cell summaries with bootstrap intervals, the area under
each training curve, ranks per task and overall with bootstrap rank intervals, and paired
tests against a baseline.

Inputs are plain numbers by seed, so every function can be checked on made-up results. The
bootstrap resamples seeds with replacement (percentile intervals, a fixed generator seed, so a
leaderboard is reproducible); with 3 seeds its intervals are narrow guesses, not guarantees.
The paired test is :func:`ganzoo.report.stats.paired_test` (t-test and Wilcoxon over seeds),
with Welch's test beside it (:func:`ganzoo.report.stats.welch_test`: seeds of different
activations are not really paired). Marks use p-values adjusted within a family, one task and
view (every activation against the baseline on the ranking metric): see
:func:`adjust_task_comparisons`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ganzoo.report.stats import (
    PairedTest,
    WelchTest,
    adjust_family,
    beyond_noise,
    paired_test,
    welch_test,
)

BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
ALPHA = 0.05  # two-sided level for "beyond seed noise" and the 95% intervals

SeedValues = Mapping[int, float]  # seed -> value


@dataclass(frozen=True)
class CellStats:
    """Mean, sample std and a 95% bootstrap interval of the mean over seeds."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def finite(values: SeedValues) -> dict[int, float]:
    return {s: float(v) for s, v in values.items() if v is not None and math.isfinite(v)}


def bootstrap_interval(
    values: Sequence[float],
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    alpha: float = ALPHA,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; (nan, nan) without values, the value itself
    for one."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, array.size, (samples, array.size))].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def cell_stats(values: SeedValues) -> CellStats:
    """Summary of one (activation, task, metric) over its finite seeds."""
    data = list(finite(values).values())
    if not data:
        return CellStats(0, math.nan, math.nan, math.nan, math.nan)
    std = float(np.std(data, ddof=1)) if len(data) > 1 else math.nan
    low, high = bootstrap_interval(data)
    return CellStats(len(data), float(np.mean(data)), std, low, high)


def area_under_curve(iterations: Sequence[int], values: Sequence[float]) -> float:
    """The curve's mean level between its first and last point (trapezoid rule divided by the
    span), in the metric's own units; the value itself for one point, nan if any is nan."""
    x = np.asarray(iterations, dtype=float)
    y = np.asarray(values, dtype=float)
    if y.size == 0 or not np.all(np.isfinite(y)):
        return math.nan
    if y.size == 1 or x[-1] == x[0]:
        return float(y[-1])
    area = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))
    return area / float(x[-1] - x[0])


def rank_means(means: Mapping[str, float], higher_is_better: bool) -> dict[str, float]:
    """Rank 1 = best; ties share the average rank; a nan (every seed failed) ranks last."""
    from scipy.stats import rankdata

    labels = list(means)
    worst = -math.inf if higher_is_better else math.inf
    keys = [means[label] if math.isfinite(means[label]) else worst for label in labels]
    score = [-k if higher_is_better else k for k in keys]
    ranks = rankdata(score, method="average")
    return {label: float(r) for label, r in zip(labels, ranks)}


@dataclass(frozen=True)
class RankInterval:
    rank: float  # from the means
    low: float  # 2.5% of the bootstrap ranks
    high: float  # 97.5%


def rank_table(
    by_task: Mapping[str, Mapping[str, SeedValues]],
    higher_is_better: Mapping[str, bool],
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[dict[str, dict[str, RankInterval]], dict[str, RankInterval]]:
    """Ranks per task and the overall mean rank, each with a bootstrap interval.

    ``by_task[task][label]`` holds one value per seed. Each bootstrap draw resamples every
    (task, label)'s seeds with replacement, re-ranks every task and averages the ranks, so the
    intervals say how much the order could move under seed noise alone. A label with no finite
    value on a task ranks last there.
    """
    tasks = list(by_task)
    labels = sorted({label for table in by_task.values() for label in table})
    point = {
        task: rank_means(
            {label: _mean(by_task[task].get(label, {})) for label in labels},
            higher_is_better[task],
        )
        for task in tasks
    }
    rng = np.random.default_rng(seed)
    drawn: dict[str, np.ndarray] = {}  # task -> (samples, labels) bootstrap ranks
    for task in tasks:
        means = np.full((samples, len(labels)), np.nan)
        for column, label in enumerate(labels):
            values = _finite_array(by_task[task].get(label, {}))
            if values.size:
                picks = rng.integers(0, values.size, (samples, values.size))
                means[:, column] = values[picks].mean(axis=1)
        drawn[task] = _rank_rows(means, higher_is_better[task])
    overall_draws = (
        np.mean([drawn[task] for task in tasks], axis=0) if tasks else np.zeros((0, len(labels)))
    )

    def interval(value: float, draws: np.ndarray) -> RankInterval:
        if draws.size == 0:
            return RankInterval(value, value, value)
        low, high = np.quantile(draws, [ALPHA / 2, 1 - ALPHA / 2])
        return RankInterval(value, float(low), float(high))

    per_task = {
        task: {
            label: interval(point[task][label], drawn[task][:, k]) for k, label in enumerate(labels)
        }
        for task in tasks
    }
    overall = {
        label: interval(
            float(np.mean([point[task][label] for task in tasks])) if tasks else math.nan,
            overall_draws[:, k],
        )
        for k, label in enumerate(labels)
    }
    return per_task, overall


@dataclass(frozen=True)
class Comparison:
    """A label against the baseline on one task and metric, paired by seed."""

    test: PairedTest
    better: bool | None  # None when the means tie or cannot be compared
    beyond_noise: bool  # raw paired t-test p < ALPHA (before adjustment; marks use adjusted)
    welch: WelchTest | None = None


def compare_to_baseline(
    baseline: SeedValues, other: SeedValues, higher_is_better: bool
) -> Comparison:
    """Paired test of ``other`` against ``baseline`` over their common finite seeds."""
    test = paired_test(finite(baseline), finite(other))
    difference = test.mean_difference
    better = None
    if math.isfinite(difference) and difference != 0:
        better = (difference > 0) == higher_is_better
    beyond = math.isfinite(test.t_p) and test.t_p < ALPHA
    return Comparison(test, better, beyond, welch_test(finite(baseline), finite(other)))


def adjust_task_comparisons(entries: Mapping[str, dict], family: str) -> None:
    """Adjust, in place, the p-values of one family: every activation's comparison with the
    baseline on one task's ranking metric at one view (``entries``: label -> the board's
    ``vs_baseline_<view>`` dict with ``t_p`` and ``welch_p``). Adds Holm and
    Benjamini-Hochberg values for both tests, the family and its size, and sets
    ``beyond_seed_noise``: both tests below ALPHA after Holm."""
    paired = adjust_family({k: _p(e.get("t_p")) for k, e in entries.items()}, family)
    welch = adjust_family({k: _p(e.get("welch_p")) for k, e in entries.items()}, family)
    for label, entry in entries.items():
        entry["family"] = {"name": family, "size": paired[label].family_size}
        entry["t_p_holm"] = _finite_or_none(paired[label].holm)
        entry["t_p_bh"] = _finite_or_none(paired[label].bh)
        entry["welch_p_holm"] = _finite_or_none(welch[label].holm)
        entry["welch_p_bh"] = _finite_or_none(welch[label].bh)
        entry["beyond_seed_noise"] = beyond_noise(paired[label]) and beyond_noise(welch[label])


def _p(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _rank_rows(means: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """:func:`rank_means` for every row of a (draws, labels) array at once."""
    from scipy.stats import rankdata

    worst = -np.inf if higher_is_better else np.inf
    keys = np.where(np.isfinite(means), means, worst)
    return rankdata(-keys if higher_is_better else keys, method="average", axis=1)


def _finite_array(values: SeedValues) -> np.ndarray:
    return np.array(list(finite(values).values()), dtype=float)


def _mean(values: SeedValues) -> float:
    data = list(finite(values).values())
    return float(np.mean(data)) if data else math.nan

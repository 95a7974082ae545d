"""The leaderboard's statistics on made-up results with known answers."""

from __future__ import annotations

import math

import pytest

from ganzoo.leaderboard.ranking import (
    area_under_curve,
    bootstrap_interval,
    cell_stats,
    compare_to_baseline,
    rank_means,
    rank_table,
)


def test_area_under_curve_is_the_mean_level():
    """Trapezoid over (250, 500, 1000) of (2, 4, 8): (3 * 250 + 6 * 500) / 750 = 5; a flat
    curve's area is its level; a nan point makes the area nan."""
    assert area_under_curve([250, 500, 1000], [2, 4, 8]) == pytest.approx(5.0)
    assert area_under_curve([1, 2, 3], [7, 7, 7]) == pytest.approx(7.0)
    assert area_under_curve([5], [3.0]) == 3.0
    assert math.isnan(area_under_curve([1, 2], [1.0, math.nan]))


def test_bootstrap_interval_of_the_mean():
    """Equal values give a zero-width interval; 1, 2, 3 give an interval inside [1, 3] around
    2, the same on every call (fixed generator seed)."""
    assert bootstrap_interval([4.0, 4.0, 4.0]) == (4.0, 4.0)
    low, high = bootstrap_interval([1.0, 2.0, 3.0])
    assert 1.0 <= low < 2.0 < high <= 3.0
    assert bootstrap_interval([1.0, 2.0, 3.0]) == (low, high)
    stats = cell_stats({0: 1.0, 1: 2.0, 2: 3.0, 3: math.nan})
    assert (stats.n, stats.mean, stats.std) == (3, 2.0, 1.0)


def test_ranks_follow_the_metric_direction_ties_and_failures():
    """Higher-is-better ranks the largest first; lower-is-better the smallest; ties share
    the average rank; a label with no value (all seeds failed) ranks last."""
    means = {"a": 3.0, "b": 1.0, "c": 2.0}
    assert rank_means(means, True) == {"a": 1.0, "c": 2.0, "b": 3.0}
    assert rank_means(means, False) == {"b": 1.0, "c": 2.0, "a": 3.0}
    assert rank_means({"a": 1.0, "b": 1.0, "c": 0.0}, True) == {"a": 1.5, "b": 1.5, "c": 3.0}
    assert rank_means({"a": math.nan, "b": 5.0, "c": 9.0}, False)["a"] == 3.0


def test_rank_table_intervals_reflect_seed_noise():
    """'best' beats everyone by far on both tasks: rank 1 with interval [1, 1], overall 1.
    'x' and 'y' overlap within their seed noise on task1: their rank intervals both span
    2-3. On task2 (lower is better) 'y' is clearly second."""
    by_task = {
        "task1": {
            "best": {0: 10.0, 1: 10.1, 2: 9.9},
            "x": {0: 1.0, 1: 2.0, 2: 3.0},
            "y": {0: 1.5, 1: 2.5, 2: 2.0},
        },
        "task2": {
            "best": {0: 0.1, 1: 0.2, 2: 0.1},
            "x": {0: 9.0, 1: 9.5, 2: 9.2},
            "y": {0: 3.0, 1: 3.1, 2: 2.9},
        },
    }
    per_task, overall = rank_table(by_task, {"task1": True, "task2": False}, samples=500)
    assert per_task["task1"]["best"].rank == 1.0
    assert (per_task["task1"]["best"].low, per_task["task1"]["best"].high) == (1.0, 1.0)
    assert per_task["task1"]["x"].low == 2.0 and per_task["task1"]["x"].high == 3.0
    assert per_task["task1"]["y"].low == 2.0 and per_task["task1"]["y"].high == 3.0
    assert per_task["task2"]["y"].rank == 2.0 and per_task["task2"]["y"].high == 2.0
    assert overall["best"].rank == 1.0 and overall["best"].high == 1.0
    # x: 2 or 3 on task1 (means 2.0 vs 2.0: tied, 2.5) and 3 on task2 -> 2.75
    assert overall["x"].rank == pytest.approx(2.75)
    assert overall["y"].rank == pytest.approx(2.25)


def test_paired_test_marks_only_differences_beyond_seed_noise():
    """A shift of +1 with seed noise of 0.1 over 6 seeds is beyond noise and better (higher is
    better) or worse (lower is better); differences of +-0.1 around 0 are not."""
    baseline = {s: float(s) for s in range(6)}
    noise = [0.05, -0.1, 0.08, -0.02, 0.1, -0.06]
    shifted = {s: baseline[s] + 1 + noise[s] for s in range(6)}
    comparison = compare_to_baseline(baseline, shifted, higher_is_better=True)
    assert comparison.beyond_noise and comparison.better
    assert comparison.test.mean_difference == pytest.approx(1 + sum(noise) / 6)
    assert compare_to_baseline(baseline, shifted, higher_is_better=False).better is False
    same = {s: baseline[s] + noise[s] for s in range(6)}
    assert not compare_to_baseline(baseline, same, higher_is_better=True).beyond_noise


def test_paired_test_uses_common_finite_seeds():
    """Failed seeds (nan) and seeds missing on one side are left out of the pairs."""
    comparison = compare_to_baseline({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: math.nan}, True)
    assert comparison.test.n == 1 and math.isnan(comparison.test.t_p)
    assert not comparison.beyond_noise


def test_a_constant_shift_over_seeds_is_not_marked_beyond_noise():
    """Every seed covers exactly one mode more than the baseline: the paired t-test has no
    spread to work with (scipy would say p = 0), so no mark, and the table cell says so."""
    from ganzoo.leaderboard.report import _versus

    comparison = compare_to_baseline({0: 7.0, 1: 6.0, 2: 7.0}, {0: 8.0, 1: 7.0, 2: 8.0}, True)
    assert math.isnan(comparison.test.t_p) and not comparison.beyond_noise
    entry = {"pairs": 3, "mean_difference": 1.0, "t_p": None, "beyond_seed_noise": False}
    assert _versus(entry) == "1 (same for every seed, no t-test)"
    assert _versus({**entry, "pairs": 1}) == "n=1, no test"

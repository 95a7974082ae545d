"""The aggregator shared by the study report and the leaderboard, on known answers: hand
computations, scipy, and Benjamini and Hochberg's (1995) published example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganzoo.report.aggregate import (
    Comparison,
    PairedTest,
    WelchTest,
    adjust_comparisons,
    adjust_family,
    benjamini_hochberg,
    bootstrap_interval,
    compare,
    describe,
    direction,
    holm,
    paired_interval,
    paired_test,
    rank_means,
    rank_table,
    welch_test,
)

# Benjamini & Hochberg (1995), section 4.1: 15 p-values of a multi-endpoint trial. At 0.05 the
# step-up procedure rejects the 4 smallest; Bonferroni-type procedures (Holm) only 3.
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459]
BH_1995 += [0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000]


# -- one cell ---------------------------------------------------------------------------------


def test_describe_mean_sample_std_and_bootstrap_interval():
    """1, 2, 3 (a NaN and a None left out): n 3, mean 2, sample std 1, an interval inside
    [1, 3] around 2, the same on every call (fixed generator seed); equal values give a
    zero-width interval."""
    d = describe({0: 1.0, 1: 2.0, 2: 3.0, 3: math.nan, 4: None})
    assert (d.n, d.mean, d.std) == (3, 2.0, 1.0)
    assert 1.0 <= d.low < 2.0 < d.high <= 3.0
    assert (d.low, d.high) == bootstrap_interval([1.0, 2.0, 3.0])
    assert bootstrap_interval([4.0, 4.0, 4.0]) == (4.0, 4.0)


def test_one_seed_has_no_spread_and_no_seed_no_value():
    """The one convention for a single seed: its std is NaN (not 0.0), its interval the value
    itself; no value at all gives n 0 and NaN everywhere."""
    one = describe([5.0])
    assert one.n == 1 and one.mean == 5.0 and math.isnan(one.std)
    assert (one.low, one.high) == (5.0, 5.0)
    none = describe([math.nan])
    assert none.n == 0 and math.isnan(none.mean) and math.isnan(none.low)


def test_directions_come_from_the_metric_registry():
    """FID is better lower, coverage higher; a spread (kid_std) and a training loss have none."""
    assert direction("fid") == "lower" and direction("coverage") == "higher"
    assert direction("kid_std") is None and direction("loss_d") is None


# -- a variant against the baseline -----------------------------------------------------------


def test_paired_test_uses_common_seeds_and_says_when_n_is_too_small():
    """Only seeds present in both groups pair; one pair gives no p-value and says why."""
    one = paired_test({0: 1.0, 1: 2.0}, {1: 4.0, 5: 9.0})
    assert one.n == 1 and one.mean_difference == 2.0
    assert math.isnan(one.t_p) and "n too small" in one.note
    none = paired_test({0: 1.0}, {1: 1.0})
    assert none.n == 0 and "no seed" in none.note
    same = paired_test({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0})
    assert same.mean_difference == 0 and "all differences are 0" in same.note


def test_equal_differences_give_no_t_test_rather_than_p_zero():
    """Three seeds that each cover exactly one mode more: scipy's t statistic is infinite and
    its p is 0, which would mark the difference as certain; the test reports no p instead,
    and says why, while the Wilcoxon p (0.25 for 3 pairs) stays."""
    test = paired_test({0: 7.0, 1: 6.0, 2: 7.0}, {0: 8.0, 1: 7.0, 2: 8.0})
    assert test.mean_difference == 1.0
    assert math.isnan(test.t_p) and "same amount" in test.note
    assert test.wilcoxon_p == pytest.approx(0.25)


def test_paired_interval_matches_a_hand_computation():
    """Differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653 -> 2 +- 4.302653 / sqrt(3)."""
    low, high = paired_interval([1.0, 2.0, 3.0])
    half = 4.302652729749464 / math.sqrt(3)
    assert (low, high) == pytest.approx((2 - half, 2 + half))
    test = paired_test({0: 10.0, 1: 10.0, 2: 10.0}, {0: 11.0, 1: 12.0, 2: 13.0})
    assert (test.low, test.high) == pytest.approx((2 - half, 2 + half))


def test_welch_matches_scipy():
    """p, interval and degrees of freedom equal scipy's ttest_ind(equal_var=False) on the
    same numbers (other minus baseline), for unequal sizes and spreads."""
    baseline = [63.9, 60.1, 67.6]
    other = [55.8, 53.7, 57.9, 56.2]
    result = welch_test(baseline, other)
    reference = stats.ttest_ind(other, baseline, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.p == pytest.approx(reference.pvalue)
    assert result.df == pytest.approx(reference.df)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high))
    assert result.mean_difference == pytest.approx(np.mean(other) - np.mean(baseline))


def test_welch_needs_two_values_per_group():
    """One value in a group: no test, a note says why."""
    result = welch_test({0: 1.0}, {0: 2.0, 1: 3.0})
    assert math.isnan(result.p) and "2 per group" in result.note


def test_compare_pairs_common_finite_seeds_and_knows_better_from_the_direction():
    """A failed seed (NaN) and a seed missing on one side are left out of the pairs; a shift
    of +1 is better when higher is better, worse when lower is, and has no side without a
    direction."""
    comparison = compare({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: math.nan}, True)
    assert comparison.paired.n == 1 and math.isnan(comparison.paired.t_p)
    baseline = {s: float(s) for s in range(6)}
    shifted = {s: v + 1 for s, v in baseline.items()}
    assert compare(baseline, shifted, True).better is True
    assert compare(baseline, shifted, False).better is False
    assert compare(baseline, shifted, None).better is None


def test_a_difference_beyond_seed_noise_is_marked_only_after_adjustment():
    """A shift of +1 with seed noise of 0.1 over 6 seeds around a steady baseline: not beyond
    noise before its family is adjusted, beyond noise in a family of one (Holm = raw p);
    differences of +-0.1 around the baseline are not."""
    noise = [0.05, -0.1, 0.08, -0.02, 0.1, -0.06]
    baseline = {s: 5.0 + noise[::-1][s] for s in range(6)}
    shifted = compare(baseline, {s: baseline[s] + 1 + noise[s] for s in range(6)}, True)
    assert shifted.paired.mean_difference == pytest.approx(1 + sum(noise) / 6)
    assert not shifted.beyond_noise
    same = compare(baseline, {s: baseline[s] + noise[s] for s in range(6)}, True)
    adjust_comparisons({"shifted": shifted}, "one")
    adjust_comparisons({"same": same}, "other")
    assert shifted.beyond_noise and shifted.adjusted["paired"].holm == shifted.paired.t_p
    assert not same.beyond_noise


def test_a_mark_needs_welch_too():
    """Seeds 0..5 as the baseline (a wide spread between seeds) and each seed shifted by +1:
    the paired test is certain (p < 1e-5), Welch's is not (the groups overlap), so no mark."""
    noise = [0.05, -0.1, 0.08, -0.02, 0.1, -0.06]
    baseline = {s: float(s) for s in range(6)}
    comparison = compare(baseline, {s: s + 1 + noise[s] for s in range(6)}, True)
    adjust_comparisons({"x": comparison}, "f")
    assert comparison.adjusted["paired"].holm < 1e-5 and comparison.adjusted["welch"].holm > 0.05
    assert not comparison.beyond_noise


# -- multiple comparisons ---------------------------------------------------------------------


def test_holm_and_bh_on_a_hand_computed_example():
    """p = (0.01, 0.04, 0.03, 0.005), m = 4. Holm: sorted 4*0.005, 3*0.01, 2*0.03, 1*0.04 =
    0.02, 0.03, 0.06, 0.04, made monotone -> 0.02, 0.03, 0.06, 0.06. BH: 4p/i = 0.02, 0.02,
    0.04, 0.04 (already monotone). Returned in the input order (the values statsmodels'
    multipletests gives for 'holm' and 'fdr_bh')."""
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_bh_1995_example_rejects_four_and_holm_three():
    """The published example: BH at 0.05 rejects exactly the 4 smallest p-values, Holm the 3
    smallest (0.0095 * 12 = 0.114)."""
    bh = np.array(benjamini_hochberg(BH_1995))
    hm = np.array(holm(BH_1995))
    assert np.flatnonzero(bh < 0.05).tolist() == [0, 1, 2, 3]
    assert np.flatnonzero(hm < 0.05).tolist() == [0, 1, 2]
    assert hm[3] == pytest.approx(0.0095 * 12)
    # Adjusted values never fall below the raw ones and never exceed 1.
    assert np.all(bh >= np.array(BH_1995)) and np.all(hm <= 1.0)


def test_nan_p_values_are_left_out_of_the_family():
    """An untested comparison (nan) stays nan and does not count in m; no p-value at all
    gives an empty adjustment, not an error."""
    assert holm([0.01, math.nan, 0.02]) == pytest.approx([0.02, math.nan, 0.02], nan_ok=True)
    adjusted = adjust_family({"a": 0.01, "b": math.nan}, "fam")
    assert adjusted["a"].family_size == 1 and adjusted["a"].holm == pytest.approx(0.01)
    assert math.isnan(adjusted["b"].bh)
    assert all(math.isnan(p) for p in holm([math.nan, math.nan]) + benjamini_hochberg([]))


def _with_p(paired_p: float, welch_p: float) -> Comparison:
    paired = PairedTest(5, 1.0, paired_p, math.nan)
    return Comparison(paired, WelchTest(5, 5, 1.0, 0.0, 2.0, 8.0, welch_p), True)


def test_a_raw_win_that_does_not_survive_holm_is_not_marked():
    """Four comparisons with paired p = 0.01, 0.04, 0.03, 0.005 (Holm: 0.03, 0.06, 0.06,
    0.02) and Welch p all 0.001 (Holm 0.004): only 'a' and 'd' stay beyond noise; 'b' (raw
    0.04 < 0.05) does not. An untested comparison is not counted in the family."""
    paired = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005}
    comparisons = {k: _with_p(p, 0.001) for k, p in paired.items()}
    comparisons["e"] = _with_p(math.nan, math.nan)
    adjust_comparisons(comparisons, "ring8, final")
    holms = {k: comparisons[k].adjusted["paired"].holm for k in paired}
    assert holms == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "d": 0.02})
    assert comparisons["b"].adjusted["paired"].bh == pytest.approx(0.04)
    assert comparisons["a"].adjusted["welch"].holm == pytest.approx(0.004)
    assert [k for k, c in comparisons.items() if c.beyond_noise] == ["a", "d"]
    assert comparisons["a"].adjusted["paired"].family_size == 4


# -- ranks ------------------------------------------------------------------------------------


def test_ranks_follow_the_metric_direction_ties_and_failures():
    """Higher-is-better ranks the largest first; lower-is-better the smallest; ties share
    the average rank; a label with no value (all seeds failed) ranks last."""
    means = {"a": 3.0, "b": 1.0, "c": 2.0}
    assert rank_means(means, True) == {"a": 1.0, "c": 2.0, "b": 3.0}
    assert rank_means(means, False) == {"b": 1.0, "c": 2.0, "a": 3.0}
    assert rank_means({"a": 1.0, "b": 1.0, "c": 0.0}, True) == {"a": 1.5, "b": 1.5, "c": 3.0}
    assert rank_means({"a": math.nan, "b": 5.0, "c": 9.0}, False)["a"] == 3.0


def test_rank_table_intervals_reflect_seed_noise():
    """'best' beats everyone by far in both groups: rank 1 with interval [1, 1], overall 1.
    'x' and 'y' overlap within their seed noise in task1: their rank intervals both span
    2-3. In task2 (lower is better) 'y' is clearly second."""
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

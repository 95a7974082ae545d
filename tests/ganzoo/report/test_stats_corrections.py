"""Effect sizes, Welch's test and the multiple-comparison adjustments of the report statistics,
checked against known answers: hand computations, scipy, and Benjamini and Hochberg's (1995)
published example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganzoo.report import group_runs, load_run, summary_table
from ganzoo.report.stats import (
    adjust_family,
    benjamini_hochberg,
    comparison_family,
    holm,
    paired_interval,
    paired_test,
    welch_test,
)

# Benjamini & Hochberg (1995), section 4.1: 15 p-values of a multi-endpoint trial. At 0.05 the
# step-up procedure rejects the 4 smallest; Bonferroni-type procedures (Holm) only 3.
BH_1995 = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.0000,
]


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
    """An untested comparison (nan) stays nan and does not count in m."""
    assert holm([0.01, math.nan, 0.02]) == pytest.approx([0.02, math.nan, 0.02], nan_ok=True)
    adjusted = adjust_family({"a": 0.01, "b": math.nan}, "fam")
    assert adjusted["a"].family_size == 1 and adjusted["a"].holm == pytest.approx(0.01)
    assert math.isnan(adjusted["b"].bh)


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


def test_families_are_evaluation_points_of_quality_metrics():
    """Quality metrics at one evaluation point share a family; diagnostics, spreads and the
    minimum over training belong to none."""
    assert comparison_family("fid (last periodic eval)") == "last periodic eval"
    assert comparison_family("recall (eval final)") == "eval final"
    assert (
        comparison_family("fid (mean of last 3 periodic evals)") == "mean of last 3 periodic evals"
    )
    assert comparison_family("fid (best periodic eval)") is None
    assert comparison_family("kid_std (last periodic eval)") is None
    assert comparison_family("final loss_d (running avg)") is None


def test_summary_table_adjusts_within_the_family_and_marks_on_holm(make_run):
    """Two groups vs a baseline on the last periodic eval: every quality metric's p-values are
    Holm-adjusted together (family size = metrics x groups), and a mark needs Holm < 0.05 for
    both the paired and Welch's test: a huge consistent FID gap is marked, a noisy one not."""
    baseline = [60.0, 64.0, 62.0, 61.0, 63.0]
    clear = [30.0, 34.1, 31.9, 31.2, 32.8]  # about -30, tiny spread: beyond noise
    noisy = [55.0, 70.0, 58.0, 66.0, 60.0]
    runs = [load_run(make_run("lrelu", s, fids=[99, 98, baseline[s]])) for s in range(5)]
    runs += [load_run(make_run("psf", s, fids=[99, 98, clear[s]])) for s in range(5)]
    runs += [load_run(make_run("elu", s, fids=[99, 98, noisy[s]])) for s in range(5)]
    table = {
        row.metric: row
        for row in summary_table(group_runs(runs, by=["generator.activation"]), baseline="lrelu")
    }
    fid = table["fid (last periodic eval)"]
    family_rows = [
        row for row in table.values() if comparison_family(row.metric) == "last periodic eval"
    ]
    size = sum(len(row.tests) for row in family_rows)
    assert fid.adjusted["psf"]["paired"].family_size == size
    raw = {(r.metric, k): t.t_p for r in family_rows for k, t in r.tests.items()}
    expected = dict(zip(raw, holm(list(raw.values()))))
    assert fid.adjusted["psf"]["paired"].holm == pytest.approx(
        expected[("fid (last periodic eval)", "psf")]
    )
    assert fid.beyond_noise("psf") and not fid.beyond_noise("elu")
    assert fid.welch["psf"].p == pytest.approx(
        stats.ttest_ind(clear, baseline, equal_var=False).pvalue
    )
    # The minimum over training is descriptive: never adjusted, never marked.
    best = table.get("fid (best periodic eval)")
    assert best is not None and not best.adjusted


def test_report_shows_intervals_adjusted_p_and_the_family(make_run, tmp_path):
    """The written report names the family and its size (fid and kid_mean, one comparison:
    2 tests), prints the 95% interval and the raw / Holm / BH p-values."""
    from ganzoo.report import write_report

    paths = [
        make_run(a, s, fids=[99, 98, 60 + s + (1 + 0.5 * s) * (a == "psf")])
        for a in ("lrelu", "psf")
        for s in range(3)
    ]
    text = write_report(paths, tmp_path / "report", baseline="lrelu").read_text()
    assert "*last periodic eval*: 2 paired tests" in text
    assert "[95% CI]" in text and "paired p / Holm / BH" in text
    row = next(line for line in text.splitlines() if line.startswith("| fid (last periodic eval)"))
    # psf - lrelu = 1, 1.5, 2: 1.5 +- t(0.975, 2) * 0.5 / sqrt(3) = [0.2579, 2.742]
    assert "1.5 [0.2579, 2.742]" in row

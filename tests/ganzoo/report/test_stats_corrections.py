"""The study report's families: which p-values are adjusted together, how the table marks on
Holm, and what the written report shows of it (the adjustments themselves: test_aggregate.py)."""

from __future__ import annotations

import pytest
from scipy import stats

from ganzoo.report import group_runs, load_run, summary_table
from ganzoo.report.aggregate import holm
from ganzoo.report.stats import comparison_family


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
    size = sum(len(row.comparisons) for row in family_rows)
    psf = fid.comparisons["psf"]
    assert psf.adjusted["paired"].family_size == size
    raw = {(r.metric, k): c.paired.t_p for r in family_rows for k, c in r.comparisons.items()}
    expected = dict(zip(raw, holm(list(raw.values()))))
    assert psf.adjusted["paired"].holm == pytest.approx(
        expected[("fid (last periodic eval)", "psf")]
    )
    assert psf.beyond_noise and not fid.comparisons["elu"].beyond_noise
    assert psf.welch.p == pytest.approx(stats.ttest_ind(clear, baseline, equal_var=False).pvalue)
    # The minimum over training is descriptive: never adjusted, never marked.
    best = table.get("fid (best periodic eval)")
    assert best is not None and not any(c.adjusted for c in best.comparisons.values())


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

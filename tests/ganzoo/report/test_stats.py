"""The study's summary table: grouping by what varies, per-group mean and std, paired tests
(the statistics themselves: test_aggregate.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ganzoo.report import group_runs, load_run, summary_table, varied_keys


def test_tied_activation_keys_group_runs_by_activation(make_run):
    """Runs differing in seed and in the (tied) activation keys form two groups labelled by the
    activation; the seed never defines a group."""
    runs = [load_run(make_run(a, s)) for a in ("psf", "leaky_relu") for s in (0, 1, 2)]
    assert "seed" not in varied_keys(runs)
    assert "generator.activation" in varied_keys(runs)
    groups = group_runs(runs)
    assert [g.label for g in groups] == ["psf", "leaky_relu"]
    assert [sorted(r.seed for r in g.runs) for g in groups] == [[0, 1, 2], [0, 1, 2]]


def test_independent_keys_make_labelled_combinations(make_run, tmp_path):
    """Two keys varied independently give one group per combination, labelled key=value."""
    runs = []
    for loss in ("bce", "hinge"):
        for activation in ("psf", "leaky_relu"):
            path = make_run(activation, 0, root=tmp_path / loss, **{"train.loss": loss})
            runs.append(load_run(path))
    labels = sorted(g.label for g in group_runs(runs))
    assert labels == [
        "generator.activation=leaky_relu, train.loss=bce",
        "generator.activation=leaky_relu, train.loss=hinge",
        "generator.activation=psf, train.loss=bce",
        "generator.activation=psf, train.loss=hinge",
    ]
    by_loss = group_runs(runs, by=["train.loss"])
    assert sorted((g.label, len(g.runs)) for g in by_loss) == [("bce", 2), ("hinge", 2)]


def test_summary_mean_std_and_paired_p_match_numpy_and_scipy(make_run):
    """The table's mean and std are numpy's (ddof=1) on the known final values; the paired
    p-values equal scipy's ttest_rel and wilcoxon on the same numbers, paired by seed."""
    psf_fid = [30.0, 41.0, 35.5, 50.0]
    lrelu_fid = [33.0, 47.0, 36.0, 58.5]
    psf_loss = [0.5, 0.7, 0.9, 1.1]
    runs = [
        load_run(make_run("psf", s, final_loss_d=psf_loss[s], fids=[99, 98, psf_fid[s]]))
        for s in range(4)
    ]
    # LeakyReLU seeds in another order: pairing must follow the seed, not the order.
    runs += [
        load_run(make_run("leaky_relu", s, final_loss_d=1.0, fids=[99, 98, lrelu_fid[s]]))
        for s in (3, 1, 0, 2)
    ]
    table = {row.metric: row for row in summary_table(group_runs(runs))}

    loss = table["final loss_d (running avg)"]
    assert loss.groups["psf"].mean == pytest.approx(0.8)
    assert loss.groups["psf"].std == pytest.approx(np.std(psf_loss, ddof=1))
    assert loss.groups["psf"].n == 4

    fid = table["fid (last periodic eval)"]
    assert fid.groups["leaky_relu"].mean == pytest.approx(np.mean(lrelu_fid))
    test = fid.comparisons["leaky_relu"].paired
    assert test.n == 4
    assert test.mean_difference == pytest.approx(np.mean(np.subtract(lrelu_fid, psf_fid)))
    assert test.t_p == pytest.approx(stats.ttest_rel(lrelu_fid, psf_fid).pvalue)
    assert test.wilcoxon_p == pytest.approx(stats.wilcoxon(lrelu_fid, psf_fid).pvalue)
    assert "cannot reach p<0.05" in test.note
    # The best FID over training is its own row (min of each run's series).
    best = table["fid (best periodic eval)"]
    assert best.groups["psf"].mean == pytest.approx(np.mean(psf_fid))
    # PSF's alpha exists only in the PSF group: no pairs, no test.
    assert table["final generator/blocks.0.act/alpha"].groups["leaky_relu"].n == 0
    assert "leaky_relu" not in table["final generator/blocks.0.act/alpha"].comparisons


def test_summary_notes_are_said_once_and_name_the_metrics_they_apply_to():
    """A note every test shares (n=3) appears once without metric names; a note only some
    tests have (all differences 0) names those metrics."""
    from ganzoo.report.aggregate import Describe, compare
    from ganzoo.report.markdown import summary_markdown
    from ganzoo.report.stats import Group, SummaryRow

    def row(metric: str, other: dict[int, float]) -> SummaryRow:
        base = {0: 1.0, 1: 2.0, 2: 4.0}
        return SummaryRow(
            metric,
            {"psf": Describe(3, 2.0, 1.0), "lrelu": Describe(3, 2.0, 1.0)},
            {"lrelu": compare(base, other)},
        )

    table = [row("fid", {0: 1.5, 1: 2.0, 2: 5.0}), row("modes", {0: 1.0, 1: 2.0, 2: 4.0})]
    lines = summary_markdown([Group("psf"), Group("lrelu")], table, "psf")
    (notes,) = [line for line in lines if line.startswith("Notes on the tests")]
    assert notes.count("Wilcoxon cannot reach p<0.05") == 1
    assert "all differences are 0 (modes)" in notes
    assert "needs 6 pairs)" in notes and "needs 6 pairs) (" not in notes

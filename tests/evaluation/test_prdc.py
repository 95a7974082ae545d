"""Precision/recall and density/coverage on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.prdc import density_coverage, knn_radii, prdc, precision_recall


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=float)[:, None]


def test_knn_radii_exclude_the_point_itself():
    """Points 0, 1, 3, 7 on a line: 1st-NN distances 1, 1, 2, 4; 2nd-NN 3, 2, 3, 6."""
    points = _column([0, 1, 3, 7])
    assert knn_radii(points, 1).tolist() == [1, 1, 2, 4]
    assert knn_radii(points, 2).tolist() == [3, 2, 3, 6]


def test_hand_computed_case():
    """Reals 0, 1, 2, 3 (k = 1: every radius 1); fakes 0.5 and 10 (fake radius 9.5).

    precision: 0.5 lies in a real ball, 10 does not -> 1/2. recall: every real is within 9.5 of
    a fake -> 1. density: 0.5 lies in the balls of 0 and 1, 10 in none -> 2 / (1 * 2) = 1.
    coverage: reals 0 and 1 have a fake within 1, reals 2 and 3 do not -> 1/2.
    """
    result = prdc(_column([0, 1, 2, 3]), _column([0.5, 10]), k_pr=1, k_dc=1)
    assert (result.precision, result.recall) == (0.5, 1.0)
    assert (result.density, result.coverage) == (1.0, 0.5)


def test_collapsed_fakes_cover_little():
    """All fakes at real 0 of reals 0..9 (k = 2: radii 2 for the ends, 1 inside): precision 1,
    but only reals 0 and 1 have the fakes in their ball (coverage 0.2), and the fakes' own
    balls have radius 0, so only real 0 is inside one (recall 0.1)."""
    reals = _column(range(10))
    fakes = _column([0.0] * 5)
    p, r = precision_recall(reals, fakes, k=2)
    d, c = density_coverage(reals, fakes, k=2)
    assert p == 1.0
    assert r == pytest.approx(0.1)
    assert c == pytest.approx(0.2)
    assert d == pytest.approx(2 * 5 / (2 * 5))  # each fake sits in the balls of 0 and 1


def test_identical_sets_score_one():
    """Fakes equal to the reals: precision, recall and coverage are exactly 1."""
    x = np.random.default_rng(0).normal(size=(20, 4))
    result = prdc(x, x.copy(), k_pr=3, k_dc=5)
    assert (result.precision, result.recall, result.coverage) == (1.0, 1.0, 1.0)
    assert result.density >= 1.0

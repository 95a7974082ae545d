"""KID: exact values for point masses, the expected value for shifted Gaussians, and agreement
with torch-fidelity's own implementation."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from evaluation.kid import (
    kid_from_features,
    mmd2_unbiased,
    polynomial_kernel,
    subset_size_note,
)


def test_polynomial_kernel_values():
    """k(x, y) = (x.y / d + 1)^3: for x = (1, 2), y = (3, 4): (11/2 + 1)^3 = 274.625."""
    assert polynomial_kernel(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]))[0, 0] == 274.625


def test_point_masses_give_the_exact_mmd():
    """All x = 0, all y = 1 (d = 1): k(0,0) + k(1,1) - 2 k(0,1) = 1 + 8 - 2 = 7."""
    x, y = np.zeros((10, 1)), np.ones((12, 1))
    assert mmd2_unbiased(x, y) == pytest.approx(7.0)
    # d = 2, x = e1, y = e2: 1.5^3 + 1.5^3 - 2 * 1 = 4.75
    assert mmd2_unbiased(np.tile([1.0, 0.0], (5, 1)), np.tile([0.0, 1.0], (5, 1))) == 4.75


def test_shifted_gaussians_match_the_expected_mmd():
    """x ~ N(0, 1), y ~ N(1, 1) in 1-d: E k = E[(xy + 1)^3] gives MMD^2 = 4 + 32 - 2*7 = 22
    (moments: E x^2 = a^2 + 1, E x^3 = a^3 + 3a). Same distributions give about 0."""
    rng = np.random.default_rng(0)
    x, x2 = rng.normal(0, 1, (20000, 1)), rng.normal(0, 1, (20000, 1))
    y = rng.normal(1, 1, (20000, 1))
    mean, std = kid_from_features(x, y, subset_size=1000, num_subsets=50)
    assert mean == pytest.approx(22.0, rel=0.1)
    same, _ = kid_from_features(x, x2, subset_size=1000, num_subsets=50)
    assert abs(same) < 0.5 and std > 0


def test_matches_torch_fidelity_on_the_same_features():
    """Same subsets (same seed and draw order) give torch-fidelity's KID mean and std."""
    from torch_fidelity.metric_kid import kid_features_to_metric

    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, (300, 32)).astype(np.float32)
    b = rng.normal(0.2, 1.1, (250, 32)).astype(np.float32)
    ours = kid_from_features(a, b, subset_size=100, num_subsets=20, seed=7)
    theirs = kid_features_to_metric(
        torch.from_numpy(a),
        torch.from_numpy(b),
        kid_subsets=20,
        kid_subset_size=100,
        kid_degree=3,
        kid_gamma=None,
        kid_coef0=1,
        rng_seed=7,
        verbose=False,
    )
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-6)
    assert ours[1] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-6)
    assert ours[0] > 0.01


def test_subset_size_is_clamped_with_a_note(caplog):
    """A subset larger than the samples is clamped to the sample count and logged."""
    x, y = np.zeros((8, 1)), np.ones((6, 1))
    with caplog.at_level(logging.INFO, logger="evaluation.kid"):
        mean, std = kid_from_features(x, y, subset_size=1000, num_subsets=3)
    assert mean == pytest.approx(7.0) and std == pytest.approx(0.0)
    assert "subsets of 6 were used" in caplog.text


def test_a_subset_as_large_as_both_sets_warns_that_kid_std_is_zero(caplog):
    """Subset size 1000 with 20 and 20 samples: a warning (not a silent 0.0000 std) says that
    20 was used, so every subset is the whole set and kid_std is 0."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 4)), rng.normal(1.0, size=(20, 4))
    with caplog.at_level(logging.WARNING, logger="evaluation.kid"):
        _, std = kid_from_features(x, y, subset_size=1000, num_subsets=5)
    assert std == pytest.approx(0.0, abs=1e-12)
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "subsets of 20 were used" in record.getMessage()
    assert "kid_std is 0" in record.getMessage()
    assert subset_size_note(10, 20, 30) is None

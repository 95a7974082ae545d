"""FID: closed-form answers on Gaussians, and orderings with real Inception features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from evaluation.fid import feature_statistics, fid_from_features, frechet_distance


def _random_rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_commuting_gaussians_match_closed_form():
    """For covariances sharing eigenvectors, FID = |dmu|^2 + sum (sqrt(a) - sqrt(b))^2."""
    d = 6
    rot = _random_rotation(d, 0)
    a = np.array([1.0, 2.0, 0.5, 4.0, 3.0, 0.1])
    b = np.array([2.0, 2.0, 1.5, 1.0, 0.3, 0.1])
    mu1, mu2 = np.arange(d, dtype=float), np.arange(d, dtype=float)[::-1]
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(mu1, rot @ np.diag(a) @ rot.T, mu2, rot @ np.diag(b) @ rot.T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_general_gaussians_match_sqrtm_formula():
    """Non-commuting covariances: equal to the textbook sqrtm formula (pytorch-fid's)."""
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = m1 @ m1.T + 0.1 * np.eye(5), m2 @ m2.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert expected > 1.0


def test_identical_sets_give_zero_even_with_singular_covariance():
    """50 samples in 64 dimensions (rank-deficient covariance) against themselves: FID ~0."""
    features = np.random.default_rng(2).normal(size=(50, 64))
    assert abs(fid_from_features(features, features)) < 1e-6


def test_sampled_gaussians_converge_to_the_closed_form():
    """Features drawn from N(0, I) and N(1, 4I) in 3-d: FID near 3*1 + 3*(1-2)^2 = 6."""
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, size=(20000, 3))
    y = rng.normal(1.0, 2.0, size=(20000, 3))
    assert fid_from_features(x, y) == pytest.approx(6.0, rel=0.05)
    stats = feature_statistics(x)
    assert stats.num_samples == 20000 and stats.sigma.shape == (3, 3)


def test_fid_self_is_zero_and_mnist_is_closer_to_mnist(inception, mnist_sets, photo_crops):
    """Real weights: a set against itself ~0; 200 MNIST vs 200 other MNIST is far lower than
    MNIST vs 200 natural-photo crops."""
    a, b = inception(mnist_sets["a"]), inception(mnist_sets["b"])
    photos = inception(photo_crops)
    assert abs(fid_from_features(a, a)) < 1e-3
    mnist_mnist = fid_from_features(a, b)
    mnist_photos = fid_from_features(a, photos)
    assert 5.0 < mnist_mnist < 100.0  # offline.md measured about 33 at this N
    assert mnist_photos > 3 * mnist_mnist


def test_mnist_is_closer_to_mnist_than_to_fashion(inception, mnist_sets, fashion_images):
    """Real weights: 200 MNIST vs 200 other MNIST is far lower than vs 200 Fashion-MNIST."""
    a, b = inception(mnist_sets["a"]), inception(mnist_sets["b"])
    fashion = inception(fashion_images)
    assert fid_from_features(a, fashion) > 3 * fid_from_features(a, b)

"""Frechet distance between Gaussians fitted to two feature sets (FID on Inception features)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance (float64) of a feature set, and how many samples gave them."""

    mu: np.ndarray
    sigma: np.ndarray
    num_samples: int


def feature_statistics(features: np.ndarray) -> GaussianStats:
    """Mean and unbiased covariance (``np.cov``, as pytorch-fid and torch-fidelity use)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need a (N >= 2, D) feature array, got shape {features.shape}")
    return GaussianStats(features.mean(axis=0), np.cov(features, rowvar=False), len(features))


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    ``tr (S1 S2)^(1/2)`` is the sum of square roots of the eigenvalues of ``S1 S2``, which are
    real and non-negative for covariance matrices (``S1 S2`` is similar to the PSD matrix
    ``S1^(1/2) S2 S1^(1/2)``). Eigenvalues avoid ``sqrtm``'s trouble with singular covariances
    (fewer samples than dimensions); rounding noise (tiny negative or complex parts) is dropped,
    the same way torch-fidelity computes it.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1 = np.atleast_2d(sigma1).astype(np.float64)
    sigma2 = np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shapes differ: {mu1.shape}/{mu2.shape}, {sigma1.shape}/{sigma2.shape}")
    diff = mu1 - mu2
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2).astype(np.complex128)
    tr_covmean = float(np.sum(np.sqrt(eigenvalues).real))
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def fid_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


def fid_from_features(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two feature sets (rows are samples)."""
    return fid_from_stats(feature_statistics(features_a), feature_statistics(features_b))

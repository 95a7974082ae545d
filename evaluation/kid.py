"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel, over subsets."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0):
    """``k(x, y) = (x . y / d + coef0) ** degree`` for all pairs of rows."""
    base = x @ y.T / x.shape[1] + coef0
    if degree == 3:  # much faster than the generic power
        return base * base * base
    return base**degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 estimate (Gretton et al. 2012, eq. 3) between samples ``x`` and ``y``.

    Within-set sums leave out the diagonal (i = j); ``x`` and ``y`` need >= 2 rows each.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD needs at least 2 samples in each set")
    k_xx = polynomial_kernel(x, x, degree, coef0)
    k_yy = polynomial_kernel(y, y, degree, coef0)
    k_xy = polynomial_kernel(x, y, degree, coef0)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * k_xy.mean())


def kid_from_features(
    features_a: np.ndarray,
    features_b: np.ndarray,
    subset_size: int = 1000,
    num_subsets: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (mean, std) of MMD^2 over ``num_subsets`` random subsets of ``subset_size`` each.

    The subset size is clamped to the smaller sample count (with a warning saying what was
    used), as KID needs ``subset_size <= N``. Subsets are drawn without replacement, like
    torch-fidelity.
    """
    n_a, n_b = len(features_a), len(features_b)
    size = min(subset_size, n_a, n_b)
    note = subset_size_note(subset_size, n_a, n_b)
    if note:
        log.warning("%s", note)
    rng = np.random.RandomState(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        a = features_a[rng.choice(n_a, size, replace=False)]
        b = features_b[rng.choice(n_b, size, replace=False)]
        values[i] = mmd2_unbiased(a, b)
    return float(values.mean()), float(values.std())


def effective_subset_size(subset_size: int, *counts: int) -> int:
    return min(subset_size, *counts)


def subset_size_note(subset_size: int, n_a: int, n_b: int) -> str | None:
    """What a KID subset size larger than the samples turns into, or None when it fits."""
    size = min(subset_size, n_a, n_b)
    if size >= subset_size:
        return None
    note = (
        f"KID subset size {subset_size} is larger than the samples ({n_a} and {n_b}): "
        f"subsets of {size} were used"
    )
    if n_a == n_b == size:
        note += ", so every subset holds all the samples and kid_std is 0 (no spread to measure)"
    return note

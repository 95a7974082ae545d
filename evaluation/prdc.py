"""Precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Each real sample i has a k-NN ball of radius r_i (distance to its k-th nearest other real sample),
each fake sample j likewise among fakes.

- precision: share of fakes inside at least one real ball (quality);
- recall: share of reals inside at least one fake ball (diversity);
- density: (1 / kM) * sum over fakes of the number of real balls containing it (can exceed 1);
- coverage: share of reals whose ball contains at least one fake (diversity, robust to outliers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CHUNK = 1024  # rows of a distance matrix held at once: memory stays O(CHUNK * N) for large N


def _as_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float64)


def knn_radii(features: np.ndarray, k: int, chunk: int = CHUNK) -> np.ndarray:
    """Distance from each row to its k-th nearest other row."""
    x = _as_tensor(features)
    if len(x) <= k:
        raise ValueError(f"need more than k={k} samples for k-NN radii, got {len(x)}")
    radii = []
    for start in range(0, len(x), chunk):
        distances = torch.cdist(x[start : start + chunk], x)
        # The smallest distance in each row is the point itself (0): the (k+1)-th is the k-th NN.
        radii.append(torch.kthvalue(distances, k + 1, dim=1).values)
    return torch.cat(radii).numpy()


@dataclass(frozen=True)
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float


def prdc(real: np.ndarray, fake: np.ndarray, k_pr: int = 3, k_dc: int = 5) -> PRDC:
    """All four metrics; k = 3 for precision/recall and k = 5 for density/coverage by default.

    One pass over real-row chunks of the real-fake distance matrix.
    """
    r, f = _as_tensor(real), _as_tensor(fake)
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"feature sizes differ: {r.shape[1]} and {f.shape[1]}")
    real_radii_pr = torch.from_numpy(knn_radii(real, k_pr))
    real_radii_dc = torch.from_numpy(knn_radii(real, k_dc))
    fake_radii_pr = torch.from_numpy(knn_radii(fake, k_pr))
    fake_in_real_ball = torch.zeros(len(f), dtype=torch.bool)
    real_in_fake_ball = torch.zeros(len(r), dtype=torch.bool)
    real_covered = torch.zeros(len(r), dtype=torch.bool)
    density_count = 0
    for start in range(0, len(r), CHUNK):
        stop = start + CHUNK
        d = torch.cdist(r[start:stop], f)  # (chunk, F)
        fake_in_real_ball |= (d <= real_radii_pr[start:stop, None]).any(dim=0)
        real_in_fake_ball[start:stop] = (d <= fake_radii_pr[None, :]).any(dim=1)
        inside_dc = d <= real_radii_dc[start:stop, None]
        density_count += int(inside_dc.sum())
        real_covered[start:stop] = inside_dc.any(dim=1)
    return PRDC(
        precision=float(fake_in_real_ball.double().mean()),
        recall=float(real_in_fake_ball.double().mean()),
        density=density_count / (k_dc * len(f)),
        coverage=float(real_covered.double().mean()),
    )


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019)."""
    result = prdc(real, fake, k_pr=k, k_dc=min(k, len(real) - 1))
    return result.precision, result.recall


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020)."""
    result = prdc(real, fake, k_pr=min(k, len(real) - 1, len(fake) - 1), k_dc=k)
    return result.density, result.coverage

"""Mode-collapse metrics of 2-D mixtures as pure functions (VEEGAN: Srivastava et al. 2017;
PacGAN: Lin et al. 2018); registered as the metric ``mixture_modes`` (``evaluation.metrics``).

Definitions used here, checked against VEEGAN's text ("we count a sample as high quality if it
is within three standard deviations of the nearest mode ... the number of modes captured [is]
the number of mixture components whose mean is nearest to at least one high quality sample";
2,500 samples per model) and PacGAN's metric code (``pacgan/extensions.py``, ``MetricLogger``:
distance in std units to the nearest mean, a sample counts when the distance is < 3, a mode is
covered when its count is non-zero):

- each sample is assigned to its nearest mode (Euclidean; all modes share one isotropic std);
- it is *high quality* (HQ) when that distance is strictly below ``threshold`` (3) stds;
- a mode is *covered* when at least ``min_count`` (1) HQ samples are assigned to it;
- *reverse KL* is KL(p_gen || uniform) over modes, with p_gen the normalised histogram of the HQ
  samples (the histogram PacGAN's code computes its coverage statistics from). Empty modes need
  no smoothing in this direction: they contribute 0 * log 0 = 0, and the uniform reference has no
  zeros. It is 0 for a perfectly even histogram and log(K) when all HQ samples sit in one mode.
  With no HQ sample at all the histogram is undefined and the KL is NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

HQ_THRESHOLD_STDS = 3.0


def assign_to_modes(
    samples: torch.Tensor, centers: torch.Tensor, std: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(index of the nearest centre, distance to it in units of ``std``) for each sample."""
    distances = torch.cdist(samples.double(), centers.double())  # (N, K)
    nearest, index = distances.min(dim=1)
    return index, nearest / std


def high_quality_counts(
    samples: torch.Tensor,
    centers: torch.Tensor,
    std: float,
    threshold: float = HQ_THRESHOLD_STDS,
) -> torch.Tensor:
    """Per-mode number of high-quality samples (nearest mode, within ``threshold`` stds)."""
    index, distance = assign_to_modes(samples, centers, std)
    good = distance < threshold
    return torch.bincount(index[good], minlength=centers.shape[0])


def modes_covered(counts: torch.Tensor, min_count: int = 1) -> int:
    """How many modes have at least ``min_count`` samples assigned."""
    return int((counts >= min_count).sum())


def reverse_kl_to_uniform(counts: torch.Tensor) -> float:
    """KL(p || uniform) of the histogram ``counts`` over its K bins, in nats.

    Empty bins contribute 0 (0 log 0 = 0); NaN when every count is 0.
    """
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        return math.nan
    p = counts / total
    nonzero = p > 0
    k = counts.numel()
    return float((p[nonzero] * torch.log(p[nonzero] * k)).sum())


@dataclass(frozen=True)
class MixtureMetrics:
    """The numbers reported per run: modes covered, HQ share and reverse KL."""

    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    reverse_kl: float
    mode_counts: list[int]

    def as_dict(self) -> dict:
        return asdict(self)


def mixture_metrics(
    samples: torch.Tensor,
    centers: torch.Tensor,
    std: float,
    threshold: float = HQ_THRESHOLD_STDS,
    min_count: int = 1,
) -> MixtureMetrics:
    """All mixture metrics for ``samples`` (N, 2) against ``centers`` (K, 2) sharing std ``std``."""
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples must have shape (N, {centers.shape[1]}); got {tuple(samples.shape)}"
        )
    counts = high_quality_counts(samples, centers, std, threshold)
    return MixtureMetrics(
        modes_covered=modes_covered(counts, min_count),
        num_modes=int(centers.shape[0]),
        high_quality_fraction=float(counts.sum()) / samples.shape[0],
        reverse_kl=reverse_kl_to_uniform(counts),
        mode_counts=[int(c) for c in counts],
    )

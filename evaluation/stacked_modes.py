"""Mode counts of Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN) as pure functions: three
digits in the three colour channels, so 10^3 = 1,000 modes, counted with a digit classifier
applied to each channel; registered as the metric ``stacked_modes`` (``evaluation.metrics``).

A mode is the triple (d_R, d_G, d_B) encoded as ``100 d_R + 10 d_G + d_B``. As in VEEGAN /
PacGAN: modes covered = triples predicted for at least one sample, and KL(p_gen || uniform over
1,000) of the predicted-triple histogram (empty modes contribute 0; see
:func:`evaluation.mixture_modes.reverse_kl_to_uniform`). PacGAN and VEEGAN use 26,000 samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from evaluation.mixture_modes import modes_covered, reverse_kl_to_uniform

NUM_MODES = 1000
ClassifyFn = Callable[[torch.Tensor], np.ndarray]  # uint8 (N, 1, H, W) -> digit labels (N,)


def triple_modes(digits: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Mode index ``100 d0 + 10 d1 + d2`` for digits of shape (N, 3)."""
    d = torch.as_tensor(np.asarray(digits), dtype=torch.long)
    return d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]


def classify_channels(images: torch.Tensor, classify: ClassifyFn) -> torch.Tensor:
    """Digits predicted per channel for (N, 3, H, W) images: int64 (N, 3)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"Stacked MNIST images have shape (N, 3, H, W); got {images.shape}")
    columns = [
        torch.as_tensor(np.asarray(classify(images[:, c : c + 1])), dtype=torch.long)
        for c in range(3)
    ]
    return torch.stack(columns, dim=1)


@dataclass(frozen=True)
class StackedMetrics:
    modes_covered: int
    num_modes: int
    reverse_kl: float
    num_samples: int


def stacked_mode_metrics(digits: torch.Tensor | np.ndarray) -> StackedMetrics:
    """Modes covered out of 1,000 and KL(p_gen || uniform) from per-channel digits (N, 3)."""
    counts = torch.bincount(triple_modes(digits), minlength=NUM_MODES)
    return StackedMetrics(
        modes_covered=modes_covered(counts),
        num_modes=NUM_MODES,
        reverse_kl=reverse_kl_to_uniform(counts),
        num_samples=int(counts.sum()),
    )

"""The 2-D Gaussian mixtures of the mode-collapse literature: ``ring8`` and ``grid25``.

Parameters, as published in PacGAN's code (Lin et al. 2018, github.com/fjxmlzn/PacGAN,
``synthetic_data_experiments/2DRing_GAN&PacGAN/config.py`` and ``2DGrid_GAN&PacGAN/config.py``),
which states it follows VEEGAN's setup (Srivastava et al. 2017):

- ``ring8``: 8 isotropic Gaussians with means (cos(2 pi i / 8), sin(2 pi i / 8)), i = 0..7
  (a circle of radius 1) and standard deviation 0.01 (variance 1e-4).
- ``grid25``: 25 isotropic Gaussians with means (i, j) for i, j in {-4, -2, 0, 2, 4} and
  standard deviation 0.05 (variance 0.0025). VEEGAN's own 2D-grid code uses the same means and
  std.

The unrolled-GAN ring (Metz et al. 2017) is the same ring scaled by 2 (radius 2, std 0.02); the
metrics below are measured in units of the std, so both give identical mode counts and
high-quality shares for a correspondingly scaled generator. All modes have equal weight.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from ganzoo.errors import RegistryError


@dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians with a shared standard deviation."""

    name: str
    centers: torch.Tensor  # (num_modes, 2), float32
    std: float

    @property
    def num_modes(self) -> int:
        return int(self.centers.shape[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples, shape (n, 2); seeded by ``generator`` (a CPU ``torch.Generator``)."""
        modes = torch.randint(self.num_modes, (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return self.centers[modes] + self.std * noise


def ring8() -> GaussianMixture2D:
    """8 Gaussians on the unit circle, std 0.01 (PacGAN / VEEGAN 2D-ring)."""
    angles = [2.0 * math.pi * i / 8 for i in range(8)]
    centers = torch.tensor([[math.cos(a), math.sin(a)] for a in angles], dtype=torch.float32)
    return GaussianMixture2D("ring8", centers, 0.01)


def grid25() -> GaussianMixture2D:
    """25 Gaussians on the 5x5 grid {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN / VEEGAN 2D-grid)."""
    coords = range(-4, 5, 2)
    centers = torch.tensor(list(itertools.product(coords, coords)), dtype=torch.float32)
    return GaussianMixture2D("grid25", centers, 0.05)


MIXTURES = {"ring8": ring8, "grid25": grid25}


def get_mixture(name: str) -> GaussianMixture2D:
    """The mixture called ``name`` (``ring8`` or ``grid25``)."""
    try:
        return MIXTURES[name]()
    except KeyError:
        raise RegistryError(
            f"unknown Gaussian mixture {name!r}; choose one of {', '.join(MIXTURES)}"
        ) from None

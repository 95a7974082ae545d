"""The 2-D Gaussian mixtures of the mode-collapse literature, ``ring8`` and ``grid25``, as
datasets of the registry (``DatasetInfo.kind == "points"``): ``build_dataset("ring8")`` gives a
fixed, seeded sample of points, and :func:`get_mixture` the mixture itself (its centres and std,
which the ``mixture_modes`` metric scores against). A package adds a mixture with a
:class:`MixtureBuilder` in the ``ganzoo.datasets`` entry-point group.

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
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from ganzoo.data.base import BuildRequest, DatasetBuilder, DatasetInfo
from ganzoo.errors import DataError


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


class MixtureDataset(Dataset):
    """``len(points)`` points of ``mixture`` drawn with a fixed seed; an item is ``(point (2,),
    the index of the mode it was drawn from)``."""

    def __init__(self, mixture: GaussianMixture2D, count: int, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        modes = torch.randint(mixture.num_modes, (count,), generator=generator)
        noise = torch.randn(count, 2, generator=generator)
        self.mixture = mixture
        self.points = mixture.centers[modes] + mixture.std * noise
        self.labels = modes

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.points[index], int(self.labels[index])


# Points a built mixture dataset holds when no limit is given (one epoch of the benchmarks'
# batches; the benchmarks themselves draw fresh points every batch with GaussianMixture2D.sample).
DEFAULT_POINTS = 100_000


@dataclass(frozen=True)
class MixtureBuilder(DatasetBuilder):
    """A registered 2-D mixture: its info, and ``make()`` -> :class:`GaussianMixture2D`."""

    make: Callable[[], GaussianMixture2D]


def mixture_builder(make: Callable[[], GaussianMixture2D], description: str) -> MixtureBuilder:
    """The dataset builder of the mixture ``make()``; image keys (size, channels) are ignored,
    as they do not apply to points."""
    mixture = make()
    info = DatasetInfo(
        name=mixture.name,
        image_size=None,
        channels=0,
        classes=tuple(str(i) for i in range(mixture.num_modes)),
        splits=("train",),
        description=description,
        data_shape=(2,),
    )

    def build(request: BuildRequest) -> MixtureDataset:
        # image_size and channels do not apply to points (a config always has an image_size)
        if request.classes is not None:
            raise DataError(
                f"dataset {info.name!r} holds 2-D points of equal-weight modes: data.classes "
                f"does not apply; leave it unset"
            )
        if not request.train:
            raise DataError(f"dataset {info.name!r} has one split, train; use train=True")
        return MixtureDataset(make(), DEFAULT_POINTS if request.limit is None else request.limit)

    return MixtureBuilder(info, build, make)


RING8 = mixture_builder(ring8, "8 Gaussians on the unit circle, std 0.01 (VEEGAN, PacGAN)")
GRID25 = mixture_builder(grid25, "25 Gaussians on a 5x5 grid, std 0.05 (VEEGAN, PacGAN)")


def mixture_names() -> list[str]:
    """The registered datasets that are 2-D mixtures (built-in and plugin)."""
    from ganzoo.data import DATASETS, get_builder

    names = []
    for name in DATASETS.names():
        try:
            if isinstance(get_builder(name), MixtureBuilder):
                names.append(name)
        except Exception:  # a broken plugin dataset is not a mixture we can offer
            continue
    return names


def get_mixture(name: str) -> GaussianMixture2D:
    """The 2-D mixture registered as dataset ``name`` (``ring8``, ``grid25``, or a plugin's)."""
    from ganzoo.data import get_builder

    builder = get_builder(name)
    if not isinstance(builder, MixtureBuilder):
        raise DataError(
            f"dataset {name!r} is not a 2-D Gaussian mixture; choose one of "
            f"{', '.join(mixture_names())}"
        )
    return builder.make()

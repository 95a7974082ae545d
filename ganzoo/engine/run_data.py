"""A run's data: its dataset built once from ``config.data``, and references taken from it.

The training loader and the evaluation's reference images come from the same dataset object.
A reference of N images is the class-balanced selection ``build_dataset(limit=N)`` makes, so
it is the same set whether it is taken from the whole split or from a ``data.limit`` subset
(that selection is a prefix of every longer one).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from ganzoo.config import ExperimentConfig


def build_run_dataset(
    config: ExperimentConfig, train: bool = True, download: bool | None = None
) -> Dataset:
    """The dataset ``config.data`` describes (its split, classes, size, channels and limit);
    ``download`` None follows ``data.download``."""
    from ganzoo.data import build_dataset

    d = config.data
    return build_dataset(
        d.name,
        d.root,
        image_size=d.image_size,
        channels=d.channels,
        classes=d.classes,
        download=d.download if download is None else download,
        train=train,
        limit=d.limit,
    )


def reference_from(
    dataset: Dataset, count: int, seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Up to ``count`` of ``dataset``'s images as uint8 (N, C, H, W) and their labels (None
    when the dataset has none); fewer when it holds fewer. ``seed`` None takes the
    class-balanced selection; a seed takes a seeded random subset instead (another sample of
    the same data, for measuring how much the choice of reference moves a score)."""
    from evaluation.images import choose_subset
    from ganzoo.data import ImageTensorDataset, from_unit_range
    from ganzoo.data.transforms import balanced_selection

    n = min(int(count), len(dataset))
    labels = getattr(dataset, "labels", None)
    if labels is not None and len(labels) != len(dataset):
        labels = None
    if seed is not None:
        positions = torch.from_numpy(choose_subset(len(dataset), n, seed))
    elif labels is not None:
        positions = balanced_selection(torch.as_tensor(labels, dtype=torch.int64), n)
    else:
        positions = torch.arange(n)
    chosen_labels = None
    if labels is not None:
        chosen_labels = torch.as_tensor(labels, dtype=torch.int64)[positions]
    if isinstance(dataset, ImageTensorDataset):
        images = dataset.images[positions]
    elif hasattr(dataset, "uint8"):
        images = torch.stack([dataset.uint8(int(i)) for i in positions])
    else:  # a third-party dataset: items in [-1, 1]
        images = torch.stack([from_unit_range(dataset[int(i)][0]) for i in positions])
    return images, chosen_labels


def reference_for(config: ExperimentConfig, count: int, train: bool = True) -> Any:
    """(images, labels) of :func:`reference_from` for the run's own data, built here."""
    return reference_from(build_run_dataset(config, train), count)

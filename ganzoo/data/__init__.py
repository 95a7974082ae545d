"""Datasets by name, as the trainer and the evaluation use them.

>>> from ganzoo.data import build_dataset, load_images
>>> train = build_dataset("mnist5k", image_size=32)  # items: (float (1, 32, 32) in [-1, 1], int)
>>> cars = build_dataset("cifar10", "data", classes=["automobile"])  # the 5,000 training cars
>>> reference = load_images("mnist5k", n=1000)  # uint8 (1000, 1, 28, 28), 100 per class

Names (``DATASETS``, a registry that packages extend through the ``ganzoo.datasets`` entry-point
group with a :class:`DatasetBuilder`; ``ganzoo datasets`` lists them): ``mnist``,
``fashion_mnist``, ``cifar10``, ``mnist5k``, ``image_folder``, ``stl10``, ``stl10_unlabeled``,
``stacked_mnist`` (1,000 modes), and the 2-D mixtures ``ring8`` and ``grid25`` (points, not
images: :mod:`ganzoo.data.mixtures`). Every problem a user can cause (an unknown name
or class, missing or corrupt files, a failed download) is a :class:`ganzoo.errors.DataError`
saying what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ganzoo.data import cifar, folder, mixtures, mnist, mnist5k, stacked_mnist, stl10
from ganzoo.data.base import BuildRequest, DatasetBuilder, DatasetInfo, ImageTensorDataset
from ganzoo.data.folder import ImageFileDataset
from ganzoo.data.transforms import from_unit_range, to_unit_range
from ganzoo.errors import DataError, RegistryError
from ganzoo.registry import Registry

__all__ = [
    "DATASETS",
    "BuildRequest",
    "DatasetBuilder",
    "DatasetInfo",
    "ImageFileDataset",
    "ImageTensorDataset",
    "build_dataset",
    "dataset_info",
    "from_unit_range",
    "load_images",
    "to_unit_range",
]

DATASETS = Registry("dataset", "ganzoo.datasets")
DATASETS.register("mnist", mnist.MNIST_BUILDER)
DATASETS.register("fashion_mnist", mnist.FASHION_BUILDER)
DATASETS.register("cifar10", cifar.BUILDER)
DATASETS.register("mnist5k", mnist5k.BUILDER)
DATASETS.register("image_folder", folder.BUILDER)
DATASETS.register("stl10", stl10.LABELLED_BUILDER)
DATASETS.register("stl10_unlabeled", stl10.UNLABELED_BUILDER)
DATASETS.register("stacked_mnist", stacked_mnist.BUILDER)
DATASETS.register("ring8", mixtures.RING8)
DATASETS.register("grid25", mixtures.GRID25)


def get_builder(name: str) -> DatasetBuilder:
    """The :class:`DatasetBuilder` registered as ``name``; unknown names suggest the closest."""
    try:
        builder = DATASETS.get(name)
    except RegistryError as exc:
        raise DataError(str(exc)) from None
    if not isinstance(builder, DatasetBuilder):
        raise DataError(
            f"dataset {name!r} is registered as {builder!r}, not a ganzoo.data.DatasetBuilder"
        )
    return builder


def dataset_info(name: str) -> DatasetInfo:
    """What dataset ``name`` is (native size, channels, classes), without reading any file."""
    return get_builder(name).info


def build_dataset(
    name: str,
    root: str | Path = "data",
    *,
    image_size: int | None = None,
    channels: int | None = None,
    classes: Sequence[str | int] | None = None,
    download: bool = False,
    train: bool = True,
    limit: int | None = None,
) -> Dataset:
    """The dataset ``name`` with items ``(image, label)``.

    ``image`` is a float32 tensor (C, H, W) in [-1, 1] and ``label`` an int (-1 when
    unlabelled). ``root`` is the folder torchvision's datasets live in (``ROOT/MNIST/raw``,
    ``ROOT/cifar-10-batches-py``), or for ``image_folder`` the folder of images itself; mnist5k
    ignores it. ``image_size`` resizes to a square (None: native); ``channels`` converts
    grayscale <-> RGB (None: native). ``classes`` keeps only those classes (names or indices);
    labels keep their original indices. ``download`` lets torchvision fetch missing files.
    ``train`` picks the split. ``limit`` keeps N images after the class filter, chosen
    round-robin over the classes in file order (deterministic, balanced even for data sorted by
    class; plain first N when unlabelled).
    """
    builder = get_builder(name)
    request = BuildRequest(
        Path(root).expanduser(),
        image_size=image_size,
        channels=channels,
        classes=None if classes is None else list(classes),
        download=download,
        train=train,
        limit=limit,
    )
    return builder.build(request)


def load_images(
    name: str,
    root: str | Path = "data",
    n: int | None = None,
    *,
    train: bool = True,
    image_size: int | None = None,
    channels: int | None = None,
    classes: Sequence[str | int] | None = None,
    download: bool = False,
) -> torch.Tensor:
    """Reference images as uint8 0..255, shape (N, C, H, W), e.g. for FID.

    ``n`` images chosen as :func:`build_dataset`'s ``limit`` does (class-balanced,
    deterministic); None takes the whole split. Asking for more images than the split holds is a
    :class:`DataError` (FID depends on the sample count, so a silent shortfall would mislead).
    """
    data = build_dataset(
        name,
        root,
        image_size=image_size,
        channels=channels,
        classes=classes,
        download=download,
        train=train,
        limit=n,
    )
    if n is not None and len(data) < n:
        raise DataError(
            f"{n} images were asked for from {name!r} ({'train' if train else 'test'} split"
            f"{f', classes {list(classes)}' if classes else ''}), but it holds only {len(data)}"
        )
    if isinstance(data, ImageTensorDataset):
        return data.images
    if hasattr(data, "uint8"):
        items = [data.uint8(i) for i in range(len(data))]
    else:  # a third-party dataset: items in [-1, 1]
        items = [from_unit_range(data[i][0]) for i in range(len(data))]
    return torch.stack(items)

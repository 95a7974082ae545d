"""What every dataset source shares: its description, its builder, and the in-memory dataset.

A source that fits in memory (MNIST, CIFAR-10, mnist5k) only has to read its files into uint8
``(N, C, H, W)`` images and int64 labels; :func:`in_memory_builder` adds the class filter, the
class-balanced ``limit``, resizing and channel conversion, once, at build time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import Dataset

from ganzoo.data.transforms import prepare, select_items, to_unit_range
from ganzoo.errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, known without reading it (for config validation).

    ``image_size`` is the native side length (None when it depends on the files), ``channels``
    the channels its images load with by default, ``classes`` the class names in label order
    (empty when unlabelled or when the folder decides), ``labelled`` whether items carry labels
    (None: it depends on the folder layout), ``splits`` the splits ``train=`` can choose,
    ``data_shape`` the shape of an item for data that are not images (``(2,)``: 2-D points of
    a Gaussian mixture, where the image keys do not apply; None for images).
    """

    name: str
    image_size: int | None
    channels: int
    classes: tuple[str, ...] = ()
    labelled: bool | None = True
    splits: tuple[str, ...] = ("train", "test")
    description: str = ""
    data_shape: tuple[int, ...] | None = None

    @property
    def kind(self) -> str:
        """``"images"``, or ``"points"`` for 2-D points."""
        return "images" if self.data_shape is None else "points"


@dataclass(frozen=True)
class BuildRequest:
    """What :func:`ganzoo.data.build_dataset` asks a builder for (its arguments, one object):
    ``root`` the data folder, ``image_size``/``channels`` None for native, ``classes`` the
    class names or indices to keep (None: all), ``download`` whether torchvision may fetch
    files, ``train`` the split, ``limit`` how many items to keep (None: all)."""

    root: Path
    image_size: int | None = None
    channels: int | None = None
    classes: Sequence[str | int] | None = None
    download: bool = False
    train: bool = True
    limit: int | None = None


# A builder's function: one request in, a dataset of (image or point, label) items out.
BuildDataset = Callable[[BuildRequest], Dataset]


@dataclass(frozen=True)
class DatasetBuilder:
    """A registered dataset: its :class:`DatasetInfo` and the function that builds it."""

    info: DatasetInfo
    build: BuildDataset


class Images(NamedTuple):
    """A whole split as read from disk: uint8 (N, C, H, W), int64 labels (-1: none), names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]


class ImageTensorDataset(Dataset):
    """Images held in memory as uint8; an item is ``(float image in [-1, 1], int label)``.

    ``images`` (uint8, N x C x H x W, already resized and converted) and ``labels`` (int64, -1
    when unlabelled; original class indices, not renumbered after a class filter) are public:
    evaluation code may take the uint8 images directly.
    """

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str] = ()
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), not {images.dtype} {images.shape}"
            )
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels.to(torch.int64)
        self.classes = tuple(classes)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_unit_range(self.images[index]), int(self.labels[index])

    def uint8(self, index: int) -> torch.Tensor:
        """Item ``index`` as uint8 (C, H, W), as evaluation wants it."""
        return self.images[index]


def in_memory_builder(
    info: DatasetInfo, read: Callable[[Path, bool, bool], Images]
) -> DatasetBuilder:
    """A builder from ``read(root, train, download) -> Images`` (the files of one split)."""

    def build(request: BuildRequest) -> ImageTensorDataset:
        split = "train" if request.train else "test"
        if split not in info.splits:
            raise DataError(
                f"dataset {info.name!r} has no {split} split (it has: {', '.join(info.splits)}); "
                f"use train=True, or take a held-out part with limit"
            )
        data = read(Path(request.root), request.train, request.download)
        chosen = select_items(data.labels, data.classes, request.classes, request.limit, info.name)
        images = prepare(data.images[chosen], request.image_size, request.channels)
        return ImageTensorDataset(images, data.labels[chosen], data.classes)

    return DatasetBuilder(info, build)


def require_files(
    name: str,
    root: Path,
    paths: Sequence[Path],
    download: bool,
    fetch: Callable[[], None],
    missing_message: Callable[[list[Path]], str],
) -> None:
    """Make sure every file in ``paths`` exists: when some are missing and ``download`` is on,
    ``fetch()`` them first (never when all are there: a user's files are not overwritten).
    What is still missing is a :class:`DataError` with ``missing_message(missing)``."""
    missing = [p for p in paths if not p.is_file()]
    if missing and download:
        try:
            fetch()
        except Exception as exc:  # URLError offline, an MD5 mismatch of the archive, ...
            raise DataError(
                f"downloading {name!r} into {root} failed ({type(exc).__name__}: {exc}).\n"
                + missing_message(missing)
            ) from None
        missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(missing_message(missing))

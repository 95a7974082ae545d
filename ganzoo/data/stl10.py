"""``stl10`` and ``stl10_unlabeled``: torchvision's STL-10 binary files, read lazily.

The files are torchvision's (``ROOT/stl10_binary/train_X.bin``, ``train_y.bin``, ``test_X.bin``,
``test_y.bin``, ``unlabeled_X.bin``): raw uint8 96 x 96 RGB images, each stored as three planes
in column-major order, and labels 1..10 one byte each. ``stl10_unlabeled`` is the 100,000-image
unlabelled split the SNGAN baselines train on (at 48 px); ``stl10`` the labelled 5,000 train and
8,000 test images. The unlabelled file is 2.8 GB, so images are read from a memory map one item
at a time and resized then. ``download=True`` runs torchvision's downloader for the 2.6 GB
archive. Files are checked by size (a whole number of images, one label per image, labels in
1..10), not by MD5, which would read 2.8 GB at every start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ganzoo.data.base import BuildRequest, DatasetBuilder, DatasetInfo, require_files
from ganzoo.data.transforms import prepare, select_items, to_unit_range
from ganzoo.errors import DataError

FOLDER = "stl10_binary"  # torchvision.datasets.STL10.base_folder
ARCHIVE_URL = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
NATIVE_SIZE = 96
IMAGE_BYTES = 3 * NATIVE_SIZE * NATIVE_SIZE
# class_names.txt of the official archive, in label order (labels 1..10 in the files).
CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")

# split -> (image file, label file or None)
SPLIT_FILES: dict[str, tuple[str, str | None]] = {
    "train": ("train_X.bin", "train_y.bin"),
    "test": ("test_X.bin", "test_y.bin"),
    "unlabeled": ("unlabeled_X.bin", None),
}

LABELLED_INFO = DatasetInfo(
    name="stl10",
    image_size=NATIVE_SIZE,
    channels=3,
    classes=CLASSES,
    description="STL-10 labelled, 5,000 train + 8,000 test, 96x96 RGB (torchvision's files)",
)
UNLABELED_INFO = DatasetInfo(
    name="stl10_unlabeled",
    image_size=NATIVE_SIZE,
    channels=3,
    classes=(),
    labelled=False,
    splits=("train",),
    description="STL-10 unlabelled split, 100,000 images, 96x96 RGB (SNGAN trains at 48 px)",
)


class STL10Images(Dataset):
    """Images of one STL-10 file, read on demand; an item is ``(float image in [-1, 1], int
    label)``. ``positions`` are the images' indices in the file, ``labels`` theirs (-1: none).

    The memory map is opened lazily in each process and never pickled, so DataLoader workers
    do not copy the file.
    """

    def __init__(
        self,
        path: Path,
        positions: torch.Tensor,
        labels: torch.Tensor,
        classes: Sequence[str] = (),
        image_size: int | None = None,
        channels: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.positions = positions.to(torch.int64)
        self.labels = labels.to(torch.int64)
        self.classes = tuple(classes)
        self.image_size = image_size
        self.channels = channels
        self._images: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_images": None}

    def _file(self) -> np.ndarray:
        if self._images is None:
            self._images = np.memmap(self.path, dtype=np.uint8, mode="r").reshape(
                -1, 3, NATIVE_SIZE, NATIVE_SIZE
            )
        return self._images

    def __len__(self) -> int:
        return len(self.positions)

    def uint8(self, index: int) -> torch.Tensor:
        """Item ``index`` as uint8 (C, H, W), converted and resized as configured."""
        stored = self._file()[int(self.positions[index])]
        image = torch.from_numpy(np.ascontiguousarray(stored.transpose(0, 2, 1)))  # column-major
        return prepare(image.unsqueeze(0), self.image_size, self.channels)[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_unit_range(self.uint8(index)), int(self.labels[index])


def _missing_message(name: str, missing: list[Path], root: Path) -> str:
    listing = "\n  ".join(str(p) for p in missing)
    return (
        f"dataset {name!r} is not in {root}: these files are missing:\n  {listing}\n"
        f"To get them: set data.download: true on a machine with internet (torchvision fetches "
        f"{ARCHIVE_URL}, 2.6 GB, and unpacks it into {root}), or unpack stl10_binary.tar.gz "
        f"yourself so that {root / FOLDER}/ holds those files."
    )


def download_archive(root: Path) -> None:
    """Fetch and unpack the official archive into ``root``, as ``STL10.download`` does."""
    from torchvision.datasets import STL10
    from torchvision.datasets.utils import download_and_extract_archive

    download_and_extract_archive(STL10.url, str(root), filename=STL10.filename, md5=STL10.tgz_md5)


def _ensure_files(name: str, root: Path, paths: list[Path], download: bool) -> None:
    require_files(
        name,
        root,
        paths,
        download,
        lambda: download_archive(root),
        lambda missing: _missing_message(name, missing, root),
    )


def image_count(path: Path) -> int:
    """How many 96x96 RGB images ``path`` holds; a size that is not a whole number of images is
    a DataError (a truncated download, or not an STL-10 file)."""
    size = path.stat().st_size
    if size == 0 or size % IMAGE_BYTES:
        raise DataError(
            f"the STL-10 file {path} has {size:,} bytes, not a whole number of 96x96 RGB images "
            f"({IMAGE_BYTES:,} bytes each); it is truncated or not STL-10: delete it and "
            f"download again (data.download: true) or copy an intact file there"
        )
    return size // IMAGE_BYTES


def read_labels(path: Path, count: int) -> torch.Tensor:
    """Labels 1..10 (one byte per image) as int64 0..9; the count and range are checked."""
    raw = np.fromfile(path, dtype=np.uint8)
    if len(raw) != count:
        raise DataError(
            f"the STL-10 label file {path} has {len(raw)} labels for {count} images; it is "
            f"truncated or belongs to another split: download the files again"
        )
    if count and (raw.min() < 1 or raw.max() > len(CLASSES)):
        raise DataError(
            f"the STL-10 label file {path} has labels {int(raw.min())}..{int(raw.max())}; "
            f"STL-10 labels are 1..{len(CLASSES)}: the file is corrupt, download it again"
        )
    return torch.from_numpy(raw.astype(np.int64) - 1)


def _builder(info: DatasetInfo, split_of: dict[bool, str]) -> DatasetBuilder:
    def build(request: BuildRequest) -> STL10Images:
        if request.train not in split_of:
            raise DataError(
                f"dataset {info.name!r} has no test split (it has: {', '.join(info.splits)}); "
                f"use train=True, or 'stl10' (train=False) for STL-10's labelled test images"
            )
        root = Path(request.root).expanduser()
        image_file, label_file = SPLIT_FILES[split_of[request.train]]
        paths = [root / FOLDER / image_file]
        if label_file is not None:
            paths.append(root / FOLDER / label_file)
        _ensure_files(info.name, root, paths, request.download)
        count = image_count(paths[0])
        if label_file is None:
            labels = torch.full((count,), -1, dtype=torch.int64)
            names: tuple[str, ...] = ()
        else:
            labels = read_labels(paths[1], count)
            names = CLASSES
        chosen = select_items(labels, names, request.classes, request.limit, info.name)
        return STL10Images(
            paths[0], chosen, labels[chosen], names, request.image_size, request.channels
        )

    return DatasetBuilder(info, build)


LABELLED_BUILDER = _builder(LABELLED_INFO, {True: "train", False: "test"})
UNLABELED_BUILDER = _builder(UNLABELED_INFO, {True: "unlabeled"})

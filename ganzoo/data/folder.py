"""``image_folder``: any folder of images, searched recursively; read lazily, one file per item.

``root`` is the folder itself. When every image lies below a first-level subfolder (torchvision's
``ImageFolder`` layout, ``root/<class>/.../*.png``), the subfolder names are the classes (sorted,
as ``ImageFolder`` numbers them); when any image lies directly in ``root``, items are unlabelled
(label -1). Hidden files and folders (names starting with ".") are skipped. Images load as RGB
unless ``channels=1`` is asked for (so the channel count is known before any file is opened).
Without ``image_size`` every image is brought to the first image's size; with it, the shorter
side is scaled to ``image_size`` and the centre cropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from ganzoo.data.base import BuildRequest, DatasetBuilder, DatasetInfo
from ganzoo.data.transforms import resize_square, select_items, to_unit_range
from ganzoo.errors import DataError

logger = logging.getLogger(__name__)

INFO = DatasetInfo(
    name="image_folder",
    image_size=None,
    channels=3,
    classes=(),
    labelled=None,
    splits=("train", "test"),
    description="any folder of PNG/JPEG images (recursive; class subfolders give labels)",
)


def find_images(root: Path) -> tuple[list[Path], torch.Tensor, tuple[str, ...]]:
    """Image files below ``root`` (sorted), their labels (-1 when unlabelled) and class names."""
    if not root.is_dir():
        raise DataError(
            f"the image folder {root} does not exist or is not a folder; set data.root to a "
            f"folder of images"
        )
    from evaluation.images import IMAGE_EXTENSIONS, image_files_below

    files = image_files_below(root)
    if not files:
        raise DataError(
            f"the image folder {root} holds no images (searched recursively for "
            f"{', '.join(IMAGE_EXTENSIONS)}); put images there or set data.root to another folder"
        )
    parts = [p.relative_to(root).parts for p in files]
    if all(len(part) > 1 for part in parts):
        classes = tuple(sorted({part[0] for part in parts}))
        index = {name: i for i, name in enumerate(classes)}
        labels = torch.tensor([index[part[0]] for part in parts], dtype=torch.int64)
    else:
        classes = ()
        labels = torch.full((len(files),), -1, dtype=torch.int64)
    return files, labels, classes


def read_image(path: Path, channels: int) -> torch.Tensor:
    """One file as uint8 (C, H, W), grayscale (``channels=1``) or RGB."""
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            return (
                torch.from_numpy(np.array(image, dtype=np.uint8, copy=True))
                .reshape(image.height, image.width, channels)
                .permute(2, 0, 1)
            )
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(
            f"cannot read the image {path} ({type(exc).__name__}: {exc}); the file is corrupt "
            f"or not an image: remove it from the folder"
        ) from None


class ImageFileDataset(Dataset):
    """Image files read on demand; an item is ``(float image in [-1, 1], int label)``."""

    def __init__(
        self,
        files: Sequence[Path],
        labels: torch.Tensor,
        classes: Sequence[str] = (),
        image_size: int | None = None,
        channels: int = 3,
    ) -> None:
        if channels not in (1, 3):
            raise DataError(f"channels must be 1 or 3 for an image folder, got {channels}")
        self.files = list(files)
        self.labels = labels.to(torch.int64)
        self.classes = tuple(classes)
        self.image_size = image_size
        self.channels = channels
        # Without image_size, every item takes the first image's size, so batches stack.
        self._size = None if image_size is not None else tuple(read_image(files[0], 1).shape[1:])
        self._warned = False

    def __len__(self) -> int:
        return len(self.files)

    def uint8(self, index: int) -> torch.Tensor:
        """Item ``index`` as uint8 (C, H, W), resized as configured."""
        image = read_image(self.files[index], self.channels)
        if self.image_size is not None:
            return resize_square(image.unsqueeze(0), self.image_size)[0]
        if tuple(image.shape[1:]) != self._size:
            if not self._warned:
                logger.warning(
                    "images in the folder differ in size (%s is %s, the first is %s); resizing "
                    "them to the first one's; set data.image_size to choose",
                    self.files[index],
                    tuple(image.shape[1:]),
                    self._size,
                )
                self._warned = True
            from torchvision.transforms.v2.functional import resize

            image = resize(image, list(self._size), antialias=True)
        return image

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_unit_range(self.uint8(index)), int(self.labels[index])


def build(request: BuildRequest) -> ImageFileDataset:
    """The folder ``request.root`` as a dataset; ``download`` and ``train`` do not apply."""
    root = Path(request.root).expanduser()
    files, labels, names = find_images(root)
    what = f"image_folder {root}"
    chosen = select_items(labels, names, request.classes, request.limit, what).tolist()
    return ImageFileDataset(
        [files[i] for i in chosen],
        labels[chosen],
        names,
        image_size=request.image_size,
        channels=request.channels or INFO.channels,
    )


BUILDER = DatasetBuilder(INFO, build)

"""Preparing images once, as uint8: resizing, channel conversion, class filter and selection.

Every dataset is held (or read) as uint8 ``(N, C, H, W)``; these functions work on that form, so
the same code serves training (which then scales to [-1, 1]) and evaluation (which wants uint8).
torchvision is imported only when an image is resized or converted: importing it costs seconds
on a small CPU, and config validation needs none of it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import torch

from ganzoo.errors import DataError


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 in [-1, 1] (the GAN convention: the generator ends in tanh)."""
    return images.to(torch.float32).div_(127.5).sub_(1.0)


def from_unit_range(images: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8 0..255 (rounded, clamped); the inverse of :func:`to_unit_range`."""
    return images.add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


def convert_channels(images: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Grayscale <-> RGB on uint8 ``(N, C, H, W)``; None keeps the images' own channels.

    Grayscale to RGB repeats the plane; RGB to grayscale uses ITU-R 601 luma (torchvision's
    ``rgb_to_grayscale``, the same weights as PIL's ``convert("L")``).
    """
    have = images.shape[1]
    if channels is None or channels == have:
        return images
    if channels == 3 and have == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if channels == 1 and have == 3:
        from torchvision.transforms.v2.functional import rgb_to_grayscale

        return rgb_to_grayscale(images, num_output_channels=1)
    raise DataError(f"cannot convert {have}-channel images to {channels} channels; use 1 or 3")


def resize_square(images: torch.Tensor, image_size: int | None) -> torch.Tensor:
    """Resize uint8 ``(N, C, H, W)`` to ``image_size`` x ``image_size``; None keeps the size.

    The shorter side is scaled to ``image_size`` (bilinear, antialiased) and the centre is cropped,
    so non-square images keep their aspect ratio (DCGAN's ``Resize`` + ``CenterCrop``).
    """
    if image_size is None:
        return images
    if image_size < 1:
        raise DataError(f"image_size must be a positive number of pixels, got {image_size}")
    height, width = images.shape[-2:]
    if (height, width) == (image_size, image_size):
        return images
    from torchvision.transforms.v2.functional import center_crop, resize

    if height != width:
        images = resize(images, image_size, antialias=True)
        return center_crop(images, [image_size, image_size])
    return resize(images, [image_size, image_size], antialias=True)


def prepare(
    images: torch.Tensor, image_size: int | None = None, channels: int | None = None
) -> torch.Tensor:
    """Channel conversion then resize, on uint8 ``(N, C, H, W)``; returns uint8."""
    return resize_square(convert_channels(images, channels), image_size)


def class_indices(
    wanted: Sequence[str | int], class_names: Sequence[str], dataset: str
) -> list[int]:
    """Label indices for ``wanted`` class names (case-insensitive) or indices.

    An unknown name or an index out of range is a :class:`DataError` listing the class names.
    """
    if not class_names:
        raise DataError(
            f"dataset {dataset!r} has no class labels, so data.classes={list(wanted)} cannot "
            f"select anything; remove data.classes (for an image folder, put each class's "
            f"images in its own subfolder)"
        )
    listing = ", ".join(
        name if name == str(i) else f"{i}={name}" for i, name in enumerate(class_names)
    )
    lookup = {name.lower(): i for i, name in enumerate(class_names)}
    indices: list[int] = []
    for item in wanted:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise DataError(f"class {item!r} for {dataset!r} must be a name or an index")
        key = item.strip().lower() if isinstance(item, str) else item
        if isinstance(key, str) and key not in lookup and key.isdigit():
            key = int(key)  # "1" from a command-line override means index 1
        if isinstance(key, int):
            if not 0 <= key < len(class_names):
                raise DataError(
                    f"class index {key} is out of range for {dataset!r}; its classes are {listing}"
                )
            index = key
        elif key in lookup:
            index = lookup[key]
        else:
            close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.6)
            hint = f" Did you mean {class_names[lookup[close[0]]]!r}?" if close else ""
            raise DataError(
                f"unknown class {item!r} for {dataset!r}.{hint} Its classes are {listing}"
            )
        if index not in indices:
            indices.append(index)
    return indices


def select_items(
    labels: torch.Tensor,
    class_names: Sequence[str],
    classes: Sequence[str | int] | None,
    limit: int | None,
    dataset: str,
) -> torch.Tensor:
    """Indices of the items a build keeps: those of ``classes`` (names or indices; None: all),
    then ``limit`` of them chosen by :func:`balanced_selection`."""
    keep = None if classes is None else class_indices(classes, class_names, dataset)
    chosen = filter_by_class(labels, keep)
    return chosen[balanced_selection(labels[chosen], limit)]


def filter_by_class(labels: torch.Tensor, keep: Sequence[int] | None) -> torch.Tensor:
    """Indices (in the original order) of the items whose label is in ``keep``; None keeps all."""
    if keep is None:
        return torch.arange(len(labels))
    return torch.nonzero(torch.isin(labels, torch.as_tensor(list(keep))), as_tuple=False)[:, 0]


def balanced_selection(labels: torch.Tensor, limit: int | None) -> torch.Tensor:
    """Positions of ``limit`` items, taken round-robin over the classes, deterministic.

    The first item of each class (in label order), then the second of each, and so on, so the
    classes stay balanced even when the data is sorted by class (``mnist5k`` is) and any prefix
    of the result is balanced too. A class that runs out drops out of the rotation. Unlabelled
    data (every label -1) keeps its first ``limit`` items. None or a limit at least the length
    keeps everything in the original order.
    """
    count = len(labels)
    if limit is None or limit >= count:
        return torch.arange(count)
    if limit < 1:
        raise DataError(f"limit must be a positive number of images (or null), got {limit}")
    values = labels.unique()
    if len(values) <= 1:
        return torch.arange(limit)
    per_class = [torch.nonzero(labels == v, as_tuple=False)[:, 0] for v in values]
    # Rank of each item within its class; sorting by (rank, class) interleaves the classes.
    rank = torch.empty(count, dtype=torch.long)
    klass = torch.empty(count, dtype=torch.long)
    for k, positions in enumerate(per_class):
        rank[positions] = torch.arange(len(positions))
        klass[positions] = k
    order = torch.argsort(rank * len(values) + klass, stable=True)
    return order[:limit]

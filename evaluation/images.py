"""Image inputs: tensors or arrays, folders of image files, and sampling functions.

Everything becomes a uint8 tensor (N, C, H, W), C in {1, 3}, the form torch-fidelity's Inception
takes. Float images are quantized the way ``torchvision.utils.save_image`` writes PNGs
(``x * 255 + 0.5``, clamped, truncated), so evaluating a tensor or the PNGs saved from it gives
the same features.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from evaluation.errors import ImageInputError

log = logging.getLogger(__name__)

# torchvision's ImageFolder formats (png, jpg, jpeg, ppm, bmp, pgm, tif, tiff, webp): the ones
# ganzoo's image_folder training data reads, so a folder trains and evaluates alike.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
Sampler = Callable[[int], torch.Tensor | np.ndarray]
ImageSource = torch.Tensor | np.ndarray | str | os.PathLike | Sampler

DEFAULT_VALUE_RANGE = (-1.0, 1.0)  # a GAN generator's tanh output


def as_uint8_images(
    images: torch.Tensor | np.ndarray,
    value_range: tuple[float, float] = DEFAULT_VALUE_RANGE,
) -> torch.Tensor:
    """Return images as a uint8 tensor (N, C, H, W) with C in {1, 3}.

    Accepts (N, H, W), (N, C, H, W), or a numpy (N, H, W, C) array. uint8 is kept as it is;
    floats are mapped from ``value_range`` to [0, 255] and quantized like ``save_image``.
    """
    if isinstance(images, np.ndarray):
        array = images
        if array.ndim == 4 and array.shape[-1] in (1, 3) and array.shape[1] not in (1, 3):
            array = array.transpose(0, 3, 1, 2)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    elif isinstance(images, torch.Tensor):
        tensor = images.detach().cpu()
    else:
        raise ImageInputError(f"expected a tensor or an array of images, got {type(images)}")
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(1)
    if tensor.ndim != 4 or tensor.shape[1] not in (1, 3):
        raise ImageInputError(
            f"images must be (N, C, H, W) with C = 1 or 3 (or (N, H, W)); got {tuple(tensor.shape)}"
        )
    if tensor.dtype == torch.uint8:
        return tensor.contiguous()
    if not tensor.is_floating_point():
        raise ImageInputError(f"images must be uint8 or float, got {tensor.dtype}")
    low, high = value_range
    if not high > low:
        raise ImageInputError(f"value_range must be (low, high) with high > low, got {value_range}")
    scaled = (tensor.float() - low) / (high - low)
    return scaled.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)


def to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Repeat a single (grayscale) channel to three."""
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def to_grayscale(images: torch.Tensor) -> torch.Tensor:
    """Average RGB to one channel (exact for grayscale stored as RGB)."""
    if images.shape[1] == 1:
        return images
    return images.float().mean(dim=1, keepdim=True).round().to(images.dtype)


def content_digest(images: torch.Tensor) -> str:
    """A hash of the pixels, shape and dtype: the same images give the same cache key."""
    h = hashlib.sha1(str((tuple(images.shape), str(images.dtype))).encode())
    h.update(images.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def image_files_below(root: Path) -> list[Path]:
    """Image files under the folder ``root`` (recursively, hidden ones skipped), sorted by
    path: the formats torchvision's ImageFolder reads. ganzoo's ``image_folder`` dataset lists
    its files with it too, so training and evaluation see the same images."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.is_file()
    )


def list_image_files(folder: str | os.PathLike) -> list[Path]:
    """:func:`image_files_below` ``folder``; a missing or empty folder is an ImageInputError."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ImageInputError(f"image folder {root} does not exist or is not a directory")
    files = image_files_below(root)
    if not files:
        raise ImageInputError(
            f"no images ({', '.join(IMAGE_EXTENSIONS)}) found in {root}; put the images to "
            "evaluate there, one file each"
        )
    return files


def choose_subset(count: int, num_samples: int | None, seed: int) -> np.ndarray:
    """Indices of ``num_samples`` of ``count`` items: a seeded random choice, sorted.

    Random rather than the first N, because datasets are often sorted by class.
    """
    if num_samples is None or num_samples >= count:
        if num_samples is not None and num_samples > count:
            raise ImageInputError(f"asked for {num_samples} images but only {count} are available")
        return np.arange(count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=num_samples, replace=False))


def load_image_folder(
    folder: str | os.PathLike, num_samples: int | None = None, seed: int = 0
) -> torch.Tensor:
    """Read image files as uint8 (N, C, H, W): C = 1 when every file is grayscale, else 3.

    Colour files are converted with PIL's ``convert("RGB")``, as torch-fidelity reads folders.
    """
    from PIL import Image

    files = list_image_files(folder)
    files = [files[i] for i in choose_subset(len(files), num_samples, seed)]
    arrays = []
    all_gray = True
    for path in files:
        try:
            with Image.open(path) as img:
                gray = img.mode in ("L", "1")
                arrays.append(np.asarray(img.convert("L" if gray else "RGB")))
        except OSError as exc:
            raise ImageInputError(f"cannot read image {path}: {exc}") from exc
        all_gray = all_gray and gray
    shapes = {a.shape[:2] for a in arrays}
    if len(shapes) > 1:
        raise ImageInputError(
            f"images in {folder} have different sizes {sorted(shapes)[:4]}; resize them to one "
            "size first"
        )
    if all_gray:
        stacked = np.stack(arrays)[:, None]
    else:
        stacked = np.stack([np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a for a in arrays])
        stacked = stacked.transpose(0, 3, 1, 2)
    log.debug("read %d images %s from %s", len(files), stacked.shape[1:], folder)
    return torch.from_numpy(np.ascontiguousarray(stacked))


def draw_from_sampler(
    sample: Sampler,
    num_samples: int,
    batch_size: int,
    value_range: tuple[float, float] = DEFAULT_VALUE_RANGE,
) -> torch.Tensor:
    """Call ``sample(k)`` with k <= batch_size until ``num_samples`` images are drawn."""
    chunks: list[torch.Tensor] = []
    drawn = 0
    with torch.no_grad():
        while drawn < num_samples:
            k = min(batch_size, num_samples - drawn)
            batch = as_uint8_images(sample(k), value_range)
            if len(batch) != k:
                raise ImageInputError(f"sample({k}) returned {len(batch)} images")
            chunks.append(batch)
            drawn += k
    return torch.cat(chunks)


def save_image_folder(images: torch.Tensor, folder: str | os.PathLike) -> list[Path]:
    """Write uint8 (N, C, H, W) images as numbered PNGs (for tests and for other tools)."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        array = img.numpy()
        array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
        path = folder / f"{i:06d}.png"
        Image.fromarray(array).save(path)
        paths.append(path)
    return paths


def resolve_images(
    source: ImageSource,
    num_samples: int | None,
    *,
    batch_size: int = 64,
    value_range: tuple[float, float] = DEFAULT_VALUE_RANGE,
    seed: int = 0,
) -> torch.Tensor:
    """Turn any image source into uint8 (N, C, H, W), taking ``num_samples`` of them.

    A tensor or array with more images than asked is subsampled (seeded); a sampler is called
    for exactly ``num_samples`` (required then).
    """
    if isinstance(source, str | os.PathLike):
        return load_image_folder(source, num_samples, seed)
    if isinstance(source, torch.Tensor | np.ndarray):
        images = as_uint8_images(source, value_range)
        return images[torch.from_numpy(choose_subset(len(images), num_samples, seed))]
    if callable(source):
        if num_samples is None:
            raise ImageInputError("a sampling function needs a number of samples to draw")
        return draw_from_sampler(source, num_samples, batch_size, value_range)
    raise ImageInputError(
        f"cannot evaluate {type(source).__name__}: pass a tensor of images, a folder path or a "
        "function sample(n) -> images"
    )


def batches(images: torch.Tensor, batch_size: int) -> Sequence[torch.Tensor]:
    return [images[i : i + batch_size] for i in range(0, len(images), batch_size)]

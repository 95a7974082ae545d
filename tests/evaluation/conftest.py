"""Shared, session-scoped data for the evaluation tests.

Inception runs at about 12 images/s on 2 CPU cores, so every image's features are computed once
per session (``MemoFeatures`` caches them per image) and the image sets are small (200). The
converted weights and the digit classifier live in pytest's cache directory, so they are
built once per checkout. The real TF-2015 weights are required: random weights give FID ~0 for
everything and would make these tests meaningless.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation.errors import WeightsNotFoundError
from evaluation.images import as_uint8_images, to_rgb

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SET_SIZE = 200


class MemoFeatures:
    """Wraps an InceptionFeatures; features of an image already seen are not recomputed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.memo: dict[str, np.ndarray] = {}
        self.computed = 0  # images that really went through Inception

    @property
    def extractor_id(self) -> str:
        return self.inner.extractor_id

    @property
    def source(self):
        return self.inner.source

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def __call__(self, images, value_range=(-1.0, 1.0)) -> np.ndarray:
        rgb = to_rgb(as_uint8_images(images, value_range)).contiguous()
        keys = [hashlib.sha1(img.numpy().tobytes()).hexdigest() for img in rgb]
        todo: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in self.memo and key not in todo:
                todo[key] = i
        if todo:
            index = torch.tensor(list(todo.values()))
            features = self.inner(rgb[index])
            self.computed += len(index)
            for key, row in zip(todo, features):
                self.memo[key] = row
        return np.stack([self.memo[k] for k in keys])


@pytest.fixture(scope="session")
def eval_cache_dir(request: pytest.FixtureRequest, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("ganzoo-evaluation"))
    return tmp_path_factory.mktemp("ganzoo-evaluation")


@pytest.fixture(scope="session")
def inception(eval_cache_dir: Path) -> MemoFeatures:
    from evaluation.features import InceptionFeatures

    try:
        extractor = InceptionFeatures(cache_dir=eval_cache_dir, allow_download=False)
    except WeightsNotFoundError as exc:
        pytest.fail(f"the real Inception weights are required for these tests: {exc}")
    return MemoFeatures(extractor)


@pytest.fixture(scope="session")
def mnist5k_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 mnist5k digits (uint8) and their labels, through ganzoo.data: the evaluation
    module loads no dataset itself, so its tests are handed the digits, as ganzoo hands them."""
    from ganzoo.data import build_dataset

    data = build_dataset("mnist5k")
    return data.images, data.labels


@pytest.fixture(scope="session")
def digit_classifier(eval_cache_dir: Path, mnist5k_digits):
    from evaluation.modes import classifier_split, load_or_train_digit_classifier

    return load_or_train_digit_classifier(eval_cache_dir, *classifier_split(*mnist5k_digits))


@pytest.fixture(scope="session")
def mnist_sets(mnist5k_digits) -> dict[str, torch.Tensor]:
    """Two disjoint random sets of 200 mnist5k digits (A, B) with labels."""
    images, labels = mnist5k_digits
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(images)))
    a, b = order[:SET_SIZE], order[SET_SIZE : 2 * SET_SIZE]
    return {"a": images[a], "a_labels": labels[a], "b": images[b], "b_labels": labels[b]}


@pytest.fixture(scope="session")
def photo_crops() -> torch.Tensor:
    """200 random 32x32 crops of scikit-image's real colour photos (natural images, not CIFAR)."""
    data = pytest.importorskip("skimage.data", reason="scikit-image gives the photo crops")
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    rng = np.random.default_rng(2)
    crops = []
    for i in range(SET_SIZE):
        photo = photos[i % len(photos)]
        y = rng.integers(0, photo.shape[0] - 32)
        x = rng.integers(0, photo.shape[1] - 32)
        crops.append(photo[y : y + 32, x : x + 32, :3])
    return torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2).copy())


@pytest.fixture(scope="session")
def fashion_images() -> torch.Tensor:
    """200 Fashion-MNIST test images, from Debian's dataset-fashion-mnist (skipped if absent)."""
    path = FASHION_DIR / "t10k-images-idx3-ubyte.gz"
    if not path.is_file():
        pytest.skip(
            f"Fashion-MNIST not installed ({path} missing): `apt-get install -y "
            "dataset-fashion-mnist` (the photo-crop comparison still runs)"
        )
    with gzip.open(path, "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    index = np.random.default_rng(3).choice(len(raw), SET_SIZE, replace=False)
    return torch.from_numpy(raw[np.sort(index)].copy())

"""Intra-class FID: known answers on small feature sets, and the suite wiring with labels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from evaluation import Evaluator, load_suite
from evaluation.intra_fid import intra_class_fid


def _classes(seed: int, per_class: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 3-d Gaussian features, centred at 0 and at (5, 5, 5)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], per_class)
    features = rng.normal(size=(2 * per_class, 3)) + 5.0 * labels[:, None]
    return features, labels


def test_identical_sets_score_zero_and_a_shift_scores_its_squared_length():
    """Per class: the same features give 0; moving class 1's generated features by d (same
    covariance) gives |d|^2 for class 1 only, and the mean is the average of the classes."""
    features, labels = _classes(0)
    same = intra_class_fid(features, labels, features, labels)
    assert same.per_class == pytest.approx({0: 0.0, 1: 0.0}, abs=1e-8)
    shifted = features + np.where(labels[:, None] == 1, np.array([3.0, 0.0, 4.0]), 0.0)
    scores = intra_class_fid(shifted, labels, features, labels)
    assert scores.per_class == pytest.approx({0: 0.0, 1: 25.0}, abs=1e-6)
    assert scores.mean == pytest.approx(12.5, abs=1e-6)
    assert scores.counts == {0: (50, 50), 1: (50, 50)} and scores.missing == ()


def test_a_class_the_generator_never_drew_is_missing_not_scored():
    """A reference class with fewer than two generated images is listed as missing and left
    out of the mean; mismatched label counts are refused."""
    features, labels = _classes(1)
    only_zeros = labels == 0
    scores = intra_class_fid(features[only_zeros], labels[only_zeros], features, labels)
    assert list(scores.per_class) == [0] and scores.missing == (1,)
    assert scores.counts[1] == (0, 50) and scores.mean == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="one label per feature row"):
        intra_class_fid(features, labels[:-1], features, labels)


class FlatExtractor:
    """Features = the first 3 pixels of each image: known, cheap features for the wiring."""

    extractor_id = "flat-3"
    source = SimpleNamespace(kind="explicit", path=None)

    def describe(self):
        return {"feature_extractor": "flat"}

    def __call__(self, images, value_range=(-1.0, 1.0)):
        return torch.as_tensor(images).reshape(len(images), -1)[:, :3].float().numpy()


def test_suite_computes_intra_fid_with_labels_and_skips_without(tmp_path):
    """Given labels for the generated and reference images (subset the same seeded way as the
    images), the suite reports the mean and per-class intra-FID equal to the pure function;
    without generated labels it is skipped with the reason."""
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], 30)
    pixels = rng.integers(0, 120, size=(90, 1, 4, 4)) + 60 * labels[:, None, None, None]
    images = torch.from_numpy(pixels.astype(np.uint8))
    suite = load_suite("smoke").replace(
        metrics=("fid", "intra_fid"), num_samples=60, reference_num_samples=60
    )
    evaluator = Evaluator(
        suite,
        images,
        reference_labels=torch.from_numpy(labels),
        extractor=FlatExtractor(),
        use_reference_cache=False,
    )
    generated = torch.flip(images, dims=[0])  # the same images in another order
    results = evaluator.evaluate(generated, generated_labels=labels[::-1].copy())
    from evaluation.images import choose_subset

    ref_index = choose_subset(90, 60, suite.seed)
    gen_index = ref_index  # the same seeded choice of 60 out of 90
    expected = intra_class_fid(
        FlatExtractor()(generated[gen_index]),
        labels[::-1][gen_index],
        FlatExtractor()(images[ref_index]),
        labels[ref_index],
    )
    assert results["intra_fid"] == pytest.approx(expected.mean, rel=1e-9)
    assert results["intra_fid_per_class"] == pytest.approx(expected.per_class, rel=1e-9)
    assert set(results["protocol"]["intra_fid_counts"]) == {0, 1, 2}
    unlabelled = evaluator.evaluate(generated)
    assert "intra_fid" not in unlabelled
    assert "generated images have no class labels" in unlabelled["protocol"]["skipped"]["intra_fid"]

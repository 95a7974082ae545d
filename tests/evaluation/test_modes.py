"""Mode counting: histogram statistics with known answers, and the cached digit classifier."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evaluation import modes
from evaluation.modes import classify_digits, mode_statistics, prepare_digits


def test_one_class_against_uniform_data():
    """Every sample a 3, reference uniform over 10 digits: 1 mode, KL = log 10, share 1."""
    stats = mode_statistics(np.full(100, 3), np.repeat(np.arange(10), 10))
    assert stats.modes_covered == 1
    assert stats.mode_kl == pytest.approx(math.log(10))
    assert stats.top_mode_share == 1.0
    assert stats.histogram[3] == 100 and sum(stats.histogram) == 100


def test_matching_histograms_give_zero_kl():
    """Generated classes in the reference's proportions: all 10 modes and KL 0."""
    stats = mode_statistics(np.repeat(np.arange(10), 7), np.repeat(np.arange(10), 3))
    assert (stats.modes_covered, stats.top_mode_share) == (10, pytest.approx(0.1))
    assert stats.mode_kl == pytest.approx(0.0, abs=1e-12)


def test_two_classes_half_and_half():
    """Half 0s, half 1s vs uniform: KL = 0.5 log(0.5/0.1) * 2 = log 5."""
    stats = mode_statistics(np.array([0, 1] * 50), np.arange(10))
    assert stats.modes_covered == 2
    assert stats.mode_kl == pytest.approx(math.log(5))


def test_prepare_digits_resizes_and_scales():
    """32x32 float images in [-1, 1] become 28x28 in [0, 1]; RGB becomes one channel."""
    x = torch.ones(2, 3, 32, 32)
    out = prepare_digits(x)
    assert out.shape == (2, 1, 28, 28)
    assert torch.allclose(out, torch.ones_like(out))


def test_classifier_is_accurate_and_cached(
    digit_classifier, eval_cache_dir, mnist5k_digits, monkeypatch
):
    """The classifier reaches >= 96% on mnist5k's held-out 1,000 digits (its reported accuracy
    is the real one), and a second call loads it from disk instead of training (no digits
    needed); with no cache and no digits it says what to pass."""
    model, accuracy = digit_classifier
    assert accuracy >= 0.96
    _, _, test_images, test_labels = modes.classifier_split(*mnist5k_digits)
    predicted = classify_digits(model, test_images)
    assert (predicted == test_labels.numpy()).mean() == pytest.approx(accuracy)

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been loaded")

    monkeypatch.setattr(modes, "train_digit_classifier", no_training)
    again, again_accuracy = modes.load_or_train_digit_classifier(eval_cache_dir)
    assert again_accuracy == accuracy
    assert all(f.is_file() for f in modes.cache_files(eval_cache_dir))
    assert (classify_digits(again, test_images[:50]) == predicted[:50]).all()
    with pytest.raises(ValueError, match="pass the digits"):
        modes.load_or_train_digit_classifier(eval_cache_dir / "empty")


def test_classifier_split_holds_out_100_per_class_the_same_way_each_time(mnist5k_digits):
    """mnist5k (500 per class) splits into 400 + 100 per class, disjoint, and the same split
    every call (the cached classifier's accuracy is measured on exactly these 1,000)."""
    images, labels = mnist5k_digits
    train_x, train_y, test_x, test_y = modes.classifier_split(images, labels)
    assert (torch.bincount(train_y) == 400).all() and (torch.bincount(test_y) == 100).all()
    again = modes.classifier_split(images, labels)
    assert torch.equal(again[2], test_x)
    as_bytes = {bytes(x.numpy().tobytes()) for x in test_x}
    assert not any(bytes(x.numpy().tobytes()) in as_bytes for x in train_x[:500])


def test_float_generator_output_is_classified_like_uint8(digit_classifier, mnist_sets):
    """Digits given as tanh-range floats get the same labels as the uint8 originals."""
    model, _ = digit_classifier
    images = mnist_sets["a"][:64]
    as_float = images.float() / 127.5 - 1.0
    assert (classify_digits(model, as_float) == classify_digits(model, images)).all()

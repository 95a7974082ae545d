"""Stacked MNIST for the mode-collapse tasks: its modes (digit triples), the project's digit
classifier counting them, and the seeded DCGAN run of ganzoo.leaderboard.mode_collapse."""

import math

import numpy as np
import pytest
import torch

from evaluation.modes import classifier_split
from evaluation.stacked_modes import (
    NUM_MODES,
    classify_channels,
    stacked_mode_metrics,
    triple_modes,
)
from ganzoo.data import build_dataset
from ganzoo.data.stacked_mnist import stack_digits
from ganzoo.leaderboard.mode_collapse import digit_classifier


@pytest.fixture(scope="module")
def mnist5k():
    data = build_dataset("mnist5k")
    return data.images, data.labels


def _oracle(images, labels):
    """A perfect classifier for these exact digits: look each image up by its bytes."""
    table = {bytes(img.numpy().tobytes()): int(lab) for img, lab in zip(images, labels)}

    def classify(channel):
        return np.array([table[bytes(c.numpy().tobytes())] for c in channel])

    return classify


def test_triples_encode_channel_digits_in_base_ten():
    """(R, G, B) = (3, 0, 7) is mode 307; (9, 9, 9) is 999."""
    assert triple_modes(torch.tensor([[3, 0, 7], [9, 9, 9], [0, 0, 0]])).tolist() == [307, 999, 0]


def test_real_stacked_digits_cover_nearly_all_1000_modes(mnist5k):
    """5,000 real Stacked-MNIST images (uniform triples) classified perfectly cover about
    1000 (1 - e^-5) = 993 modes, with a KL to uniform near the finite-sample (K-1)/(2N) = 0.1."""
    images, labels = mnist5k
    stacked, truth = stack_digits(images, labels, 5000, torch.Generator().manual_seed(0))
    assert stacked.shape == (5000, 3, 28, 28) and stacked.dtype == torch.uint8
    digits = classify_channels(stacked, _oracle(images, labels))
    assert torch.equal(digits, truth)  # each channel really holds the digit it claims
    m = stacked_mode_metrics(digits)
    assert 980 <= m.modes_covered <= 1000 and m.num_modes == NUM_MODES
    assert 0.05 < m.reverse_kl < 0.2


def test_one_repeated_triple_covers_one_mode_with_kl_log_1000(mnist5k):
    """A generator that always draws the same three digits covers 1 mode; KL = log 1000."""
    images, labels = mnist5k
    one = torch.cat([images[0], images[600], images[4999]]).unsqueeze(0)  # digits 0, 1, 9
    digits = classify_channels(one.repeat(300, 1, 1, 1), _oracle(images, labels))
    assert triple_modes(digits[:1]).item() == 19
    m = stacked_mode_metrics(digits)
    assert m.modes_covered == 1 and m.reverse_kl == pytest.approx(math.log(1000))


@pytest.mark.slow
def test_project_digit_classifier_counts_real_stacked_digits():
    """With the project's own classifier (trained on mnist5k's train split, or taken from the
    evaluation module's shared cache), stacked held-out digits still cover at least 950 of
    1,000 modes."""
    _, _, images, labels = classifier_split(*build_dataset_digits())  # the held-out digits
    classify, accuracy = digit_classifier()
    assert accuracy > 0.9
    stacked, truth = stack_digits(images, labels, 5000, torch.Generator().manual_seed(1))
    digits = classify_channels(stacked, classify)
    assert (digits == truth).float().mean() > 0.9
    assert stacked_mode_metrics(digits).modes_covered >= 950


def build_dataset_digits():
    data = build_dataset("mnist5k")
    return data.images, data.labels


def test_stacked_mnist_dataset_labels_each_image_with_its_mode(mnist5k):
    """The registry's `stacked_mnist`: 3-channel 28 px digits whose label is the mode
    100 d_R + 10 d_G + d_B of the digits really stacked there, the same every build, and
    `limit` keeps a class-balanced subset (2 of each of the 1,000 modes for 2,000)."""
    images, labels = mnist5k
    data = build_dataset("stacked_mnist", limit=2000)
    assert data.images.shape == (2000, 3, 28, 28)
    assert torch.equal(torch.bincount(data.labels, minlength=1000), torch.full((1000,), 2))
    oracle = _oracle(images, labels)
    digits = classify_channels(data.images[:50], oracle)
    assert torch.equal(triple_modes(digits), data.labels[:50])
    assert torch.equal(build_dataset("stacked_mnist", limit=2000).images, data.images)


def test_stacked_benchmark_run_is_seeded_and_counts_its_samples(mnist5k, one_thread):
    """A short Stacked-MNIST DCGAN run returns its mode count over exactly num_samples images
    (each classified per channel), is identical for the same seed, differs for another, and
    gives the numbers of the bench's own loop before it moved to the leaderboard."""
    from ganzoo.leaderboard.mode_collapse import StackedSettings, run_stacked_mnist_benchmark

    calls = []

    def by_brightness(channel):
        """A stand-in classifier: the digit is the channel's mean brightness bucket."""
        calls.append(len(channel))
        return (channel.float().mean(dim=(1, 2, 3)) / 25.6).clamp(max=9).long().numpy()

    settings = StackedSettings(iterations=2, batch_size=8, width=4, num_samples=40)
    first = run_stacked_mnist_benchmark("prelu", 0, settings, classify=by_brightness)
    again = run_stacked_mnist_benchmark("prelu", 0, settings, classify=by_brightness)
    other = run_stacked_mnist_benchmark("prelu", 1, settings, classify=by_brightness)
    assert calls == [40, 40, 40] * 3  # three channels of 40 samples, per run
    assert first["num_samples"] == 40 and 1 <= first["modes_covered"] <= 40
    assert 0.0 <= first["reverse_kl"] <= math.log(1000) + 1e-9
    assert first["final_loss_d"] == again["final_loss_d"]
    assert first["final_loss_g"] != other["final_loss_g"]
    # Measured on 2026-12-04 with ganzoo.modecollapse.stacked_mnist (commit 993fa26, one thread).
    assert (first["modes_covered"], first["final_loss_d"], first["final_loss_g"]) == (
        1,
        1.222669005393982,
        0.6351422667503357,
    )

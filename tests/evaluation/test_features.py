"""Inception features: the same numbers as torch-fidelity's own pipeline."""

from __future__ import annotations

import pytest

from evaluation.fid import fid_from_features
from evaluation.images import load_image_folder, save_image_folder

N = 100


def test_fid_equals_torch_fidelity_calculate_metrics(inception, mnist_sets, tmp_path):
    """On two folders of 100 PNG digits, our FID (folder reading, our extractor, our maths)
    equals torch_fidelity.calculate_metrics with the same weights file within 1e-3."""
    import torch_fidelity

    save_image_folder(mnist_sets["a"][:N], tmp_path / "a")
    save_image_folder(mnist_sets["b"][:N], tmp_path / "b")
    ours = fid_from_features(
        inception(load_image_folder(tmp_path / "a")), inception(load_image_folder(tmp_path / "b"))
    )
    theirs = torch_fidelity.calculate_metrics(
        input1=str(tmp_path / "a"),
        input2=str(tmp_path / "b"),
        fid=True,
        cuda=False,
        batch_size=50,
        save_cpu_ram=True,
        cache=False,
        verbose=False,
        feature_extractor_weights_path=str(inception.source.path),
    )["frechet_inception_distance"]
    assert ours == pytest.approx(theirs, abs=1e-3)
    assert ours > 5.0  # real weights: different digits are not at distance 0


def test_describe_states_the_protocol(inception):
    """The extractor says which net, which weights (source and hash) and how images are
    resized, for the results file."""
    info = inception.describe()
    assert "InceptionV3" in info["feature_extractor"]
    assert len(info["weights_sha1"]) == 40 and info["weights_source"]
    assert "299x299" in info["resize_protocol"] and "grayscale" in info["resize_protocol"]

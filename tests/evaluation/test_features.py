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


def test_the_faster_network_gives_torch_fidelitys_features(inception, mnist_sets):
    """The extractor runs with batch norms folded and channels-last weights (the speed-up),
    and its features on 8 digits stay within 1e-4 of torch-fidelity's own network."""
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from evaluation.images import to_rgb

    model = inception.inner.model
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model.Conv2d_1a_3x3.conv.weight.is_contiguous(memory_format=torch.channels_last)
    theirs = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(inception.source.path)
    )
    images = mnist_sets["a"][:8]
    with torch.no_grad():
        expected = theirs(to_rgb(images).contiguous())[0].numpy()
    ours = inception.inner(images)
    assert abs(ours - expected).max() <= 1e-4
    assert abs(expected).max() > 0.1  # real features, not zeros

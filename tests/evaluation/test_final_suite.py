"""The ``final`` suite: the declared protocol's counts, its whole-set reference, and the labels
reports show for suites."""

from __future__ import annotations

import pytest

from evaluation import SuiteError, load_suite
from evaluation.suite import suite_label


def test_final_suite_is_5000_against_the_whole_training_set():
    """final: FID, KID and PRDC on 5,000 generated images; the reference is every image a
    finite reference holds (5,000 sneakers, 60,000 digits), a sampler gets the declared count."""
    final = load_suite("final")
    assert final.metrics == ("fid", "kid", "prdc") and final.num_samples == 5000
    assert final.reference_whole_set
    assert final.reference_images_wanted(5000) == 5000
    assert final.reference_images_wanted(60000) == 60000
    assert final.reference_images_wanted(None) == 5000
    assert load_suite("smoke").reference_images_wanted(5000) == 200


def test_suite_labels_say_the_counts():
    """Reports label the curves' suite and the headline's by their counts."""
    assert suite_label("smoke") == "smoke (200 vs 200)"
    assert suite_label("final") == "final (5000 vs the whole training set)"


def test_reference_whole_set_must_be_a_boolean(tmp_path):
    """A suite file with reference_whole_set: 'yes please' is refused, naming the key."""
    path = tmp_path / "bad.yaml"
    path.write_text("reference_whole_set: yes please\n")
    with pytest.raises(SuiteError, match="reference_whole_set must be true or false"):
        load_suite(path)

"""The metric registry is the one declaration: suite names, result keys, directions and the
collapse metrics all derive from it, and a metric registered there reaches all of them."""

from __future__ import annotations

import pytest

from evaluation import RESULT_KEYS, SuiteError
from evaluation.collapse import DIVERSITY_METRICS
from evaluation.errors import RegistryError
from evaluation.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    REPORT_KEYS,
    Metric,
    ResultKey,
    get_metric,
    metric_direction,
    result_keys,
)
from evaluation.suite import Suite
from ganzoo.report.aggregate import direction as report_direction
from ganzoo.report.stats import EVAL_METRICS


def test_everything_derives_from_the_registry():
    """Result keys in registration order; lower-is-better for the report; diversity for
    collapse; the image suites' default metrics."""
    assert Suite("x").metrics == ("fid", "kid", "prdc", "is", "intra_fid", "modes")
    assert RESULT_KEYS[:4] == ("fid", "kid_mean", "kid_std", "precision")
    assert result_keys()[: len(RESULT_KEYS)] == RESULT_KEYS  # plugins' keys come after
    assert {"fid", "kid_mean", "intra_fid", "mode_kl", "reverse_kl"} == LOWER_IS_BETTER
    assert {report_direction(k) for k in LOWER_IS_BETTER} == {"lower"}
    assert "top_mode_share" not in EVAL_METRICS
    assert DIVERSITY_METRICS == ("coverage", "recall", "modes_covered")
    assert EVAL_METRICS == REPORT_KEYS


def test_each_metric_declares_its_inputs_and_directions_once():
    """Inputs and directions as declared: a metric name answers with its headline."""
    assert get_metric("fid").inputs == "inception"
    assert get_metric("modes").inputs == "classifier"
    assert get_metric("mixture_modes").inputs == "points"
    assert [metric_direction(k) for k in ("fid", "kid", "kid_mean", "coverage")] == [
        "lower",
        "lower",
        "lower",
        "higher",
    ]
    assert metric_direction("high_quality_fraction") == "higher"
    assert metric_direction("reverse_kl") == "lower"
    with pytest.raises(RegistryError, match="neither"):
        metric_direction("kid_std")
    with pytest.raises(RegistryError, match="no registered metric gives 'sharpnes'"):
        metric_direction("sharpnes")


def test_a_metric_contradicting_a_declared_direction_or_without_one_is_refused():
    """The registry refuses a metric that says FID is better higher, one with unknown inputs,
    and one whose headline has no direction, each naming what is wrong."""
    with pytest.raises(RegistryError, match="declare it 'lower'"):
        METRICS.check("bad", Metric("inception", (ResultKey("fid", "higher"),), lambda i: ({}, {})))
    with pytest.raises(RegistryError, match="choose one of images, inception"):
        METRICS.check("bad", Metric("pixels", (ResultKey("x", "lower"),), lambda i: ({}, {})))
    with pytest.raises(RegistryError, match="headline"):
        METRICS.check("bad", Metric("inception", (ResultKey("x", None),), lambda i: ({}, {})))


def test_suite_accepts_registered_names_and_a_headline_its_metrics_give():
    """A suite listing an unregistered name is refused, naming the registered ones; its
    headline defaults to the first metric's and must be a number its metrics give."""
    assert Suite("ok", metrics=("kid", "fid")).headline_key == "kid_mean"
    assert Suite("ok", metrics=("fid", "prdc"), headline="coverage").headline_key == "coverage"
    with pytest.raises(SuiteError, match="mixture_modes"):
        Suite("bad", metrics=("fid", "inception_score_typo"))
    with pytest.raises(SuiteError, match="not a number its metrics give"):
        Suite("bad", metrics=("fid",), headline="coverage")

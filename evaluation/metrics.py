"""The metrics, declared once: a table of records from which the suite's metric names, the
result keys, their better/worse directions and the diversity metrics watched for collapse all
derive. A new metric is one compute function and one record here.

A record says what the metric needs (``inception``: Inception features of the generated and
reference images; ``classifier``: the digit classifier and the images), which result keys it
fills, and how to compute them from a :class:`MetricInputs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.fid import GaussianStats, feature_statistics, fid_from_stats
from evaluation.kid import effective_subset_size, kid_from_features, subset_size_note
from evaluation.prdc import prdc


@dataclass(frozen=True)
class ResultKey:
    """One number a result holds."""

    name: str
    lower_is_better: bool | None  # None: neither (a spread, a share)
    # A sustained drop of it flags mode collapse; the number orders the diversity metrics (the
    # first listed wins when two flag the same evaluation).
    diversity: int | None = None
    in_reports: bool = True  # shown in study reports' tables and figures


@dataclass
class MetricInputs:
    """What a metric may use; each metric reads only what its record says it needs."""

    suite: Any  # evaluation.suite.Suite
    features: np.ndarray | None = None  # generated images' Inception features
    reference_features: np.ndarray | None = None
    reference_stats: GaussianStats | None = None
    images: Any = None  # generated uint8 images
    reference_images: Any = None
    classifier: Callable[[], tuple[Any, float]] | None = None  # (model, test accuracy)
    extractor: Any = None  # the Inception feature extractor (its classifier gives IS logits)
    labels: np.ndarray | None = None  # generated images' classes (conditional generators)
    reference_labels: np.ndarray | None = None


# compute(inputs) -> (result values, protocol entries)
Compute = Callable[[MetricInputs], tuple[dict[str, float], dict[str, Any]]]


@dataclass(frozen=True)
class MetricRecord:
    name: str  # as suites list it
    needs: str  # "inception" or "classifier"
    keys: tuple[ResultKey, ...]
    compute: Compute


def _fid(inputs: MetricInputs) -> tuple[dict[str, float], dict[str, Any]]:
    return {"fid": fid_from_stats(feature_statistics(inputs.features), inputs.reference_stats)}, {}


def _kid(inputs: MetricInputs) -> tuple[dict[str, float], dict[str, Any]]:
    suite = inputs.suite
    size = effective_subset_size(
        suite.kid_subset_size, len(inputs.features), len(inputs.reference_features)
    )
    mean, std = kid_from_features(
        inputs.features, inputs.reference_features, size, suite.kid_subsets, seed=suite.seed
    )
    protocol = {"kid_subset_size": size, "kid_subsets": suite.kid_subsets}
    note = subset_size_note(
        suite.kid_subset_size, len(inputs.features), len(inputs.reference_features)
    )
    if note:
        protocol["kid_note"] = note
    return {"kid_mean": mean, "kid_std": std}, protocol


def _prdc(inputs: MetricInputs) -> tuple[dict[str, float], dict[str, Any]]:
    suite = inputs.suite
    values = prdc(inputs.reference_features, inputs.features, k_pr=suite.pr_k, k_dc=suite.dc_k)
    return dataclasses.asdict(values), {"pr_k": suite.pr_k, "dc_k": suite.dc_k}


def _inception_score(inputs: MetricInputs) -> tuple[dict[str, float], dict[str, Any]]:
    from evaluation.inception_score import (
        NO_CLASSIFIER,
        SPLITS,
        classifier_of,
        inception_score,
        logits_from_features,
    )

    classifier = classifier_of(inputs.extractor)
    if classifier is None:
        return {}, {"skipped": {"is": NO_CLASSIFIER}}
    if len(inputs.features) < SPLITS:
        return {}, {"skipped": {"is": f"fewer than {SPLITS} images"}}
    mean, std = inception_score(logits_from_features(inputs.features, classifier))
    return {"is_mean": mean, "is_std": std}, {"is_splits": SPLITS}


def _intra_fid(inputs: MetricInputs) -> tuple[dict[str, Any], dict[str, Any]]:
    if inputs.labels is None or inputs.reference_labels is None:
        side = "generated images" if inputs.labels is None else "reference images"
        reason = (
            f"the {side} have no class labels (intra-class FID is for conditional generators "
            f"against a labelled reference)"
        )
        return {}, {"skipped": {"intra_fid": reason}}
    from evaluation.intra_fid import intra_class_fid

    scores = intra_class_fid(
        inputs.features, inputs.labels, inputs.reference_features, inputs.reference_labels
    )
    protocol: dict[str, Any] = {"intra_fid_counts": scores.counts}
    if scores.missing:
        protocol["intra_fid_missing_classes"] = list(scores.missing)
    return {"intra_fid": scores.mean, "intra_fid_per_class": scores.per_class}, protocol


def _modes(inputs: MetricInputs) -> tuple[dict[str, float], dict[str, Any]]:
    from evaluation.modes import digit_modes

    model, accuracy = inputs.classifier()
    modes = digit_modes(model, inputs.images, inputs.reference_images)
    values = {
        "modes_covered": modes.modes_covered,
        "mode_kl": modes.mode_kl,
        "top_mode_share": modes.top_mode_share,
    }
    return values, {"mode_histogram": modes.histogram, "classifier_accuracy": accuracy}


METRIC_TABLE: tuple[MetricRecord, ...] = (
    MetricRecord("fid", "inception", (ResultKey("fid", lower_is_better=True),), _fid),
    MetricRecord(
        "kid",
        "inception",
        (ResultKey("kid_mean", lower_is_better=True), ResultKey("kid_std", None)),
        _kid,
    ),
    MetricRecord(
        "prdc",
        "inception",
        (
            ResultKey("precision", lower_is_better=False),
            ResultKey("recall", lower_is_better=False, diversity=2),
            ResultKey("density", lower_is_better=False),
            ResultKey("coverage", lower_is_better=False, diversity=1),
        ),
        _prdc,
    ),
    MetricRecord(
        "is",
        "inception",
        (ResultKey("is_mean", lower_is_better=False), ResultKey("is_std", None)),
        _inception_score,
    ),
    MetricRecord(
        "intra_fid",
        "inception",  # and class labels on both sides; skipped (with the reason) without
        (ResultKey("intra_fid", lower_is_better=True),),
        _intra_fid,
    ),
    MetricRecord(
        "modes",
        "classifier",
        (
            ResultKey("modes_covered", lower_is_better=False, diversity=3),
            ResultKey("mode_kl", lower_is_better=True),
            ResultKey("top_mode_share", None, in_reports=False),
        ),
        _modes,
    ),
)

METRICS = tuple(record.name for record in METRIC_TABLE)
INCEPTION_METRICS = frozenset(r.name for r in METRIC_TABLE if r.needs == "inception")
_KEYS = tuple(key for record in METRIC_TABLE for key in record.keys)
# The numbers a result holds, one key each, in the order tables show them.
RESULT_KEYS = tuple(key.name for key in _KEYS)
LOWER_IS_BETTER = frozenset(key.name for key in _KEYS if key.lower_is_better)
HIGHER_IS_BETTER = frozenset(key.name for key in _KEYS if key.lower_is_better is False)
DIVERSITY_KEYS = tuple(
    key.name for key in sorted((k for k in _KEYS if k.diversity), key=lambda k: k.diversity)
)
REPORT_KEYS = tuple(key.name for key in _KEYS if key.in_reports)


def metric_record(name: str) -> MetricRecord:
    return next(record for record in METRIC_TABLE if record.name == name)

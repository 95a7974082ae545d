"""The metric registry: each metric declares once what it needs (its inputs) and the numbers it
gives, each with its direction ("lower" or "higher" is better). Suites, reports, rankings and
best-checkpoint selection read directions from here, never declare them again.

Built-ins register below. A package adds a metric, with no edit to ganzoo, through the
``ganzoo.metrics`` entry-point group, naming a :class:`Metric` object::

    [project.entry-points."ganzoo.metrics"]
    sharpness = "ganzoo_sharpness:SHARPNESS"

Public API: :data:`METRICS` (the registry), :func:`get_metric`, :func:`metric_direction`,
:func:`metric_names`, :func:`result_keys`, :func:`lower_is_better_keys`. It lives in
``evaluation`` (which knows nothing of ganzoo) because the suites compute the metrics;
ganzoo's report, leaderboard and checkpoints import it from here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.errors import RegistryError
from evaluation.fid import GaussianStats, feature_statistics, fid_from_stats
from evaluation.kid import effective_subset_size, kid_from_features, subset_size_note
from evaluation.prdc import prdc
from evaluation.registry import Registry

log = logging.getLogger(__name__)

# What a metric can ask for (``Metric.inputs``), as ``ganzoo metrics`` describes it.
INPUTS = {
    "images": "the generated and reference images themselves (uint8)",
    "inception": "Inception features of the generated and reference images",
    "classifier": "a digit classifier's predictions on the generated and reference images",
    "points": "generated 2-D points and the mixture they should cover",
    "generator": "the generator itself (a sampler n -> images)",
}
DIRECTIONS = ("lower", "higher")


@dataclass(frozen=True)
class ResultKey:
    """One number a metric gives, and which way it is better."""

    name: str
    direction: str | None  # "lower", "higher", or None: neither (a spread, a share)
    # A sustained drop of it flags mode collapse; the number orders the diversity metrics (the
    # first listed wins when two flag the same evaluation).
    diversity: int | None = None
    in_reports: bool = True  # shown in study reports' tables and figures

    @property
    def lower_is_better(self) -> bool | None:
        return None if self.direction is None else self.direction == "lower"


@dataclass
class MetricInputs:
    """What a metric may use; each metric reads only what its ``inputs`` say it needs."""

    suite: Any  # evaluation.suite.Suite
    features: np.ndarray | None = None  # generated images' Inception features
    reference_features: np.ndarray | None = None
    reference_stats: GaussianStats | None = None
    images: Any = None  # generated uint8 images
    reference_images: Any = None
    # () -> (model, held-out accuracy, data it was trained on), trained or read on first call
    classifier: Callable[[], tuple[Any, float, str]] | None = None
    extractor: Any = None  # the Inception feature extractor (its classifier gives IS logits)
    labels: np.ndarray | None = None  # generated images' classes (conditional generators)
    reference_labels: np.ndarray | None = None
    sample: Callable[[int], Any] | None = None  # the generator itself: n -> images
    points: Any = None  # generated 2-D points (N, 2)
    mixture: Any = None  # what the points should cover: ``.centers`` (K, 2) and ``.std``


# compute(inputs) -> (result values, protocol entries; "skipped": {metric: why} when it cannot)
Compute = Callable[[MetricInputs], tuple[dict[str, Any], dict[str, Any]]]


@dataclass(frozen=True)
class Metric:
    """A registered metric: what it needs, the numbers it gives (the first is its headline)
    and how to compute them."""

    inputs: str  # a key of INPUTS
    keys: tuple[ResultKey, ...]
    compute: Compute
    description: str = ""

    @property
    def headline(self) -> ResultKey:
        return self.keys[0]


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

    model, accuracy, data = inputs.classifier()
    modes = digit_modes(model, inputs.images, inputs.reference_images)
    values = {
        "modes_covered": modes.modes_covered,
        "mode_kl": modes.mode_kl,
        "top_mode_share": modes.top_mode_share,
    }
    protocol = {
        "mode_histogram": modes.histogram,
        "digit_classifier": {"data": data, "test_accuracy": accuracy},
    }
    return values, protocol


def _mixture_modes(inputs: MetricInputs) -> tuple[dict[str, Any], dict[str, Any]]:
    from evaluation.mixture_modes import mixture_metrics

    mixture = inputs.mixture
    values = mixture_metrics(inputs.points, mixture.centers, mixture.std)
    return {
        "modes_covered": values.modes_covered,
        "high_quality_fraction": values.high_quality_fraction,
        "reverse_kl": values.reverse_kl,
    }, {"num_modes": values.num_modes, "mode_counts": values.mode_counts}


def _stacked_modes(inputs: MetricInputs) -> tuple[dict[str, Any], dict[str, Any]]:
    from evaluation.modes import classify_digits
    from evaluation.stacked_modes import classify_channels, stacked_mode_metrics

    model, accuracy, data = inputs.classifier()
    digits = classify_channels(inputs.images, lambda channel: classify_digits(model, channel))
    values = stacked_mode_metrics(digits)
    protocol = {"digit_classifier": {"data": data, "test_accuracy": accuracy}}
    return {"modes_covered": values.modes_covered, "reverse_kl": values.reverse_kl}, protocol


def _check_metric(name: str, obj: Any) -> None:
    """A metric must be a :class:`Metric` with known inputs, at least one result key, and
    directions that agree with every other metric giving the same key."""
    if not isinstance(obj, Metric):
        raise RegistryError(f"metric {name!r} must be an evaluation.metrics.Metric, got {obj!r}")
    if obj.inputs not in INPUTS:
        raise RegistryError(
            f"metric {name!r} declares inputs {obj.inputs!r}; choose one of {', '.join(INPUTS)}"
        )
    if not obj.keys:
        raise RegistryError(f"metric {name!r} declares no result keys")
    for key in obj.keys:
        if key.direction not in (*DIRECTIONS, None):
            raise RegistryError(
                f"metric {name!r}: key {key.name!r} has direction {key.direction!r}; "
                f"say 'lower', 'higher' (which is better) or None"
            )
        declared = _BUILTIN_KEYS.get(key.name)
        if declared is not None and declared.direction != key.direction:
            raise RegistryError(
                f"metric {name!r} declares {key.name!r} {key.direction!r}-is-better, but the "
                f"built-in metrics declare it {declared.direction!r}; rename the key"
            )
    if obj.headline.direction is None:
        raise RegistryError(
            f"metric {name!r}: its first key {obj.headline.name!r} is its headline and needs a "
            f"direction ('lower' or 'higher')"
        )


METRICS = Registry("metric", "ganzoo.metrics", check=_check_metric)
_BUILTIN_KEYS: dict[str, ResultKey] = {}  # every built-in result key, in registration order
_BUILTIN_ORDER: list[str] = []


def _register(name: str, metric: Metric) -> None:
    METRICS.register(name, metric)
    _BUILTIN_ORDER.append(name)
    for key in metric.keys:
        _BUILTIN_KEYS.setdefault(key.name, key)


_register(
    "fid",
    Metric(
        "inception",
        (ResultKey("fid", "lower"),),
        _fid,
        "Frechet Inception Distance (Heusel et al. 2017)",
    ),
)
_register(
    "kid",
    Metric(
        "inception",
        (ResultKey("kid_mean", "lower"), ResultKey("kid_std", None)),
        _kid,
        "Kernel Inception Distance, unbiased, over subsets (Binkowski et al. 2018)",
    ),
)
_register(
    "prdc",
    Metric(
        "inception",
        (
            ResultKey("precision", "higher"),
            ResultKey("recall", "higher", diversity=2),
            ResultKey("density", "higher"),
            ResultKey("coverage", "higher", diversity=1),
        ),
        _prdc,
        "precision/recall (k=3) and density/coverage (k=5)",
    ),
)
_register(
    "is",
    Metric(
        "inception",
        (ResultKey("is_mean", "higher"), ResultKey("is_std", None)),
        _inception_score,
        "Inception Score, 10 splits (needs the 1008-way classifier)",
    ),
)
_register(
    "intra_fid",
    Metric(
        "inception",  # and class labels on both sides; skipped (with the reason) without
        (ResultKey("intra_fid", "lower"),),
        _intra_fid,
        "FID within each class, averaged (conditional generators)",
    ),
)
_register(
    "modes",
    Metric(
        "classifier",
        (
            ResultKey("modes_covered", "higher", diversity=3),
            ResultKey("mode_kl", "lower"),
            ResultKey("top_mode_share", None, in_reports=False),
        ),
        _modes,
        "digit classes covered, KL to the reference's histogram",
    ),
)
_register(
    "mixture_modes",
    Metric(
        "points",
        (
            ResultKey("modes_covered", "higher", diversity=3),
            ResultKey("high_quality_fraction", "higher"),
            ResultKey("reverse_kl", "lower"),
        ),
        _mixture_modes,
        "modes covered, high-quality share, reverse KL of a 2-D mixture (VEEGAN, PacGAN)",
    ),
)
_register(
    "stacked_modes",
    Metric(
        "classifier",
        (ResultKey("modes_covered", "higher", diversity=3), ResultKey("reverse_kl", "lower")),
        _stacked_modes,
        "Stacked-MNIST modes of 1,000 and KL to uniform (VEEGAN, PacGAN)",
    ),
)

# The metrics of an image suite that names none.
DEFAULT_SUITE_METRICS = ("fid", "kid", "prdc", "is", "intra_fid", "modes")


def get_metric(name: str) -> Metric:
    """The :class:`Metric` registered as ``name`` (built-in or plugin)."""
    return METRICS.get(name)


def metric_names() -> list[str]:
    """Every registered metric, built-in and plugin, sorted; plugins are not imported."""
    return METRICS.names()


def loaded_metrics(names: Iterable[str] | None = None) -> dict[str, Metric]:
    """``name -> Metric`` for ``names`` (default: every registered metric), built-ins first in
    the order they register; a plugin that fails to load is left out with a warning."""
    wanted = list(names) if names is not None else [*_BUILTIN_ORDER, *metric_names()]
    found: dict[str, Metric] = {}
    for name in dict.fromkeys(wanted):
        try:
            found[name] = get_metric(name)
        except RegistryError as exc:
            if names is not None:
                raise
            log.warning("%s", exc)
    return found


def result_keys(names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The numbers the metrics ``names`` give (default: every metric), each once, in order."""
    keys = (key.name for metric in loaded_metrics(names).values() for key in metric.keys)
    return tuple(dict.fromkeys(keys))


def metric_direction(name: str) -> str:
    """``"lower"`` or ``"higher"``: which way ``name`` is better. ``name`` is a number a metric
    gives (``kid_mean``, ``coverage``) or a metric (its headline: ``kid`` -> ``kid_mean``)."""
    key = _find_key(name)
    if key is None:
        raise RegistryError(
            f"no registered metric gives {name!r}, so its direction is unknown. Known: "
            f"{', '.join(result_keys())}. A package adds a metric through the 'ganzoo.metrics' "
            f"entry-point group."
        )
    if key.direction is None:
        raise RegistryError(f"{name!r} is neither better lower nor higher (a spread or a share)")
    return key.direction


def lower_is_better_keys() -> frozenset[str]:
    """Every result key that is better lower, plugins included."""
    return frozenset(k for k, key in _all_keys().items() if key.direction == "lower")


def _all_keys() -> dict[str, ResultKey]:
    keys: dict[str, ResultKey] = {}
    for metric in loaded_metrics().values():
        for key in metric.keys:
            keys.setdefault(key.name, key)
    return keys


def _find_key(name: str) -> ResultKey | None:
    if name in _BUILTIN_KEYS:
        return _BUILTIN_KEYS[name]
    if name in METRICS:
        return get_metric(name).headline
    return _all_keys().get(name)


# The built-ins' keys as constants, for code that needs no plugin (the functions above include
# plugins): every number, those better lower, those watched for collapse, those in reports.
RESULT_KEYS = tuple(_BUILTIN_KEYS)
LOWER_IS_BETTER = frozenset(k for k, key in _BUILTIN_KEYS.items() if key.direction == "lower")
HIGHER_IS_BETTER = frozenset(k for k, key in _BUILTIN_KEYS.items() if key.direction == "higher")
DIVERSITY_KEYS = tuple(
    key.name
    for key in sorted((k for k in _BUILTIN_KEYS.values() if k.diversity), key=lambda k: k.diversity)
)
REPORT_KEYS = tuple(k for k, key in _BUILTIN_KEYS.items() if key.in_reports)

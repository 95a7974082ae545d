"""Evaluation suites: which metrics, how many samples, which reference; and running them.

A suite is a YAML file (``evaluation/suites/*.yaml``, or any path)::

    metrics: [fid, kid, prdc, is, modes]   # any registered metric (`ganzoo metrics`)
    headline: fid                # the number that picks the best checkpoint (default: the
                                 # first metric's headline); its direction is the registry's
    num_samples: 5000            # generated images
    reference_num_samples: 5000  # reference images (null: same as num_samples)
    reference_whole_set: false   # true: every image of a finite reference (the training set)
    reference_split: train
    kid_subset_size: 1000        # clamped to the sample count, with a logged note
    kid_subsets: 100
    pr_k: 3                      # k-NN for precision/recall (Kynkaanniemi et al. 2019)
    dc_k: 5                      # k-NN for density/coverage (Naeem et al. 2020)
    batch_size: 32
    seed: 0                      # subset choice and KID subsets

``run_suite`` (or an :class:`Evaluator`, which keeps the Inception net and the reference features
between calls, for periodic evaluation during training) returns a flat dict with one key per
metric plus ``protocol``: what FID depends on (sample counts, reference and split, extractor,
weights, resize), so that only comparable numbers get compared.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from evaluation.cache import atomic_write, digest, resolve_cache_dir, write_json_atomic
from evaluation.errors import EvaluationError, ImageInputError, RegistryError, SuiteError
from evaluation.fid import GaussianStats, feature_statistics
from evaluation.images import (
    DEFAULT_VALUE_RANGE,
    ImageSource,
    choose_subset,
    content_digest,
    resolve_images,
)
from evaluation.metrics import (
    DEFAULT_SUITE_METRICS,
    METRICS,
    Metric,
    MetricInputs,
    get_metric,
    metric_direction,
    metric_names,
    result_keys,
)
from evaluation.modes import DIGIT_DATASETS

log = logging.getLogger(__name__)

SUITES_DIR = Path(__file__).parent / "suites"
FID_NOTE = (
    "FID is biased by the number of samples: compare FIDs only at equal num_generated and "
    "num_reference, on the same reference split; KID is unbiased"
)


@dataclass(frozen=True)
class Suite:
    """One evaluation protocol (see the module docstring for the keys)."""

    name: str
    metrics: tuple[str, ...] = DEFAULT_SUITE_METRICS
    num_samples: int = 5000
    reference_num_samples: int | None = None
    reference_split: str = "train"
    # Every image of a finite reference (the whole training set the GAN saw), whatever the
    # counts above say: the ``final`` protocol's reference.
    reference_whole_set: bool = False
    kid_subset_size: int = 1000
    kid_subsets: int = 100
    pr_k: int = 3
    dc_k: int = 5
    batch_size: int = 32
    seed: int = 0
    description: str = ""
    headline: str | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown or not self.metrics:
            raise SuiteError(
                f"suite {self.name!r}: unknown metrics {unknown} (choose from {metric_names()}; "
                f"`ganzoo metrics` lists them)"
                if unknown
                else f"suite {self.name!r}: 'metrics' is empty (choose from {metric_names()})"
            )
        if self.headline is not None:
            try:
                metric_direction(self.headline)
                given = result_keys(self.metrics)
            except RegistryError as exc:
                raise SuiteError(f"suite {self.name!r}: headline: {exc}") from None
            if self.headline not in given:
                raise SuiteError(
                    f"suite {self.name!r}: the headline {self.headline!r} is not a number its "
                    f"metrics give ({', '.join(given)})"
                )
        minimum = max(self.pr_k, self.dc_k) + 1
        counts = {"num_samples": self.num_samples}
        if self.reference_num_samples is not None:
            counts["reference_num_samples"] = self.reference_num_samples
        for key, value in counts.items():
            if value < minimum:
                raise SuiteError(
                    f"suite {self.name!r}: {key} = {value}, but the k-NN metrics need more than "
                    f"max(pr_k, dc_k) = {minimum - 1} samples"
                )
        for key in ("kid_subset_size", "kid_subsets", "pr_k", "dc_k", "batch_size"):
            if getattr(self, key) < 1:
                raise SuiteError(f"suite {self.name!r}: {key} must be >= 1")
        if self.kid_subset_size < 2:
            raise SuiteError(f"suite {self.name!r}: kid_subset_size must be >= 2")

    @property
    def reference_count(self) -> int:
        """How many reference images to take: the declared count (a whole-set suite takes
        what a finite reference holds, see :meth:`reference_images_wanted`)."""
        return self.reference_num_samples or self.num_samples

    def reference_images_wanted(self, available: int | None) -> int:
        """The reference count for a reference holding ``available`` images (None: a
        sampler, unbounded)."""
        if self.reference_whole_set and available is not None:
            return available
        return self.reference_count

    @property
    def headline_key(self) -> str:
        """The number that picks the best checkpoint: ``headline``, or the first metric's."""
        return self.headline or get_metric(self.metrics[0]).headline.name

    def needs(self, inputs: str) -> bool:
        """Whether any of the suite's metrics needs ``inputs`` (e.g. ``"inception"``)."""
        return any(get_metric(name).inputs == inputs for name in self.metrics)

    def replace(self, **changes: Any) -> Suite:
        return dataclasses.replace(self, **changes)


def suite_label(suite: Suite | str | os.PathLike) -> str:
    """A suite's name with its counts, as reports show it: ``smoke (200 vs 200)``,
    ``final (5000 vs the whole training set)``."""
    suite = load_suite(suite)
    reference = (
        "the whole training set" if suite.reference_whole_set else str(suite.reference_count)
    )
    return f"{suite.name} ({suite.num_samples} vs {reference})"


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def load_suite(name_or_path: str | os.PathLike | Suite) -> Suite:
    """A suite by name (``default``, ``smoke``, ...) or from a YAML file path."""
    if isinstance(name_or_path, Suite):
        return name_or_path
    text = str(name_or_path)
    path = Path(text).expanduser()
    looks_like_path = path.suffix in (".yaml", ".yml") or os.sep in text
    if not looks_like_path:
        path = SUITES_DIR / f"{text}.yaml"
        if not path.is_file():
            raise SuiteError(
                f"unknown evaluation suite {text!r}; available suites: "
                f"{', '.join(available_suites())} (or give the path of a suite YAML file)"
            )
    elif not path.is_file():
        raise SuiteError(f"suite file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SuiteError(f"suite file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(f"suite file {path} must hold a mapping, not {type(data).__name__}")
    allowed = {f.name for f in dataclasses.fields(Suite)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SuiteError(
            f"suite file {path}: unknown keys {unknown}; allowed keys: "
            f"{', '.join(sorted(allowed - {'name'}))}"
        )
    data.setdefault("name", path.stem)
    if "metrics" in data:
        metrics = data["metrics"]
        data["metrics"] = tuple([metrics] if isinstance(metrics, str) else metrics or ())
    whole = data.get("reference_whole_set")
    if whole is not None and not isinstance(whole, bool):
        raise SuiteError(
            f"suite file {path}: reference_whole_set must be true or false, got {whole!r}"
        )
    if data.get("headline") is not None and not isinstance(data["headline"], str):
        raise SuiteError(f"suite file {path}: headline must be a result key such as fid")
    for key, kind in (
        ("num_samples", int),
        ("reference_num_samples", int),
        ("kid_subset_size", int),
        ("kid_subsets", int),
        ("pr_k", int),
        ("dc_k", int),
        ("batch_size", int),
        ("seed", int),
    ):
        value = data.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise SuiteError(f"suite file {path}: {key} must be an integer, got {value!r}")
    try:
        return Suite(**data)
    except SuiteError as exc:
        raise SuiteError(f"{exc} (in {path})") from None


@dataclass
class _Reference:
    """Reference images, their features and statistics, computed once."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    features: np.ndarray | None = None
    stats: GaussianStats | None = None
    cache: str = "off"
    cache_path: Path | None = None  # the cached features' file, once computed
    seconds: dict[str, float] = field(default_factory=dict)


class Evaluator:
    """Runs a suite against one reference; keeps the Inception net and reference features.

    ``reference``: a tensor/array of images, a folder of PNG/JPEG files, or a sampler
    ``sample(n) -> images`` (the evaluation module loads no dataset by name; ganzoo's
    ``ganzoo.data.load_images`` does). Floats are read in ``value_range`` (default: a tanh
    generator's (-1, 1)).
    ``digits``: count modes with the digit classifier (default: when ``reference_name`` is a
    digit dataset such as mnist5k or mnist).
    ``classifier``: the digit classifier the ``classifier`` metrics use: (model, accuracy, data
    name), or a function ``cache_dir -> (model, accuracy, data name)`` called on first use
    (``ganzoo.digit_classifier.mnist5k_classifier``). Without one they are skipped, saying why.
    ``extractor``: replaces the Inception net (a callable images -> (N, D) array with an
    ``extractor_id`` and a ``describe()`` dict, like ``evaluation.features.InceptionFeatures``).
    ``reference_labels``: class labels of a reference given as images (a named dataset brings
    its own), for intra-class FID.
    """

    def __init__(
        self,
        suite: Suite | str | os.PathLike,
        reference: ImageSource,
        *,
        reference_name: str | None = None,
        reference_split: str | None = None,
        reference_num_samples: int | None = None,
        digits: bool | None = None,
        cache_dir: str | os.PathLike | None = None,
        use_reference_cache: bool = True,
        inception_weights: str | os.PathLike | None = None,
        allow_download: bool = True,
        device: str | torch.device = "cpu",
        value_range: tuple[float, float] = DEFAULT_VALUE_RANGE,
        progress: bool = False,
        extractor: Any = None,
        classifier: tuple[Any, float, str] | None = None,
        reference_labels: Any = None,
    ) -> None:
        self.suite = load_suite(suite)
        if reference_num_samples is not None:
            self.suite = self.suite.replace(reference_num_samples=reference_num_samples)
        self.cache_dir = resolve_cache_dir(cache_dir)
        self.use_reference_cache = use_reference_cache
        self.value_range = value_range
        self.split = reference_split or self.suite.reference_split
        self._reference_source = reference
        self._reference_labels = reference_labels
        self.reference_name = reference_name or _describe_source(reference)
        self.digits = digits
        self.progress = progress
        self.extractor = extractor
        if extractor is None and self.suite.needs("inception"):
            from evaluation.features import InceptionFeatures

            # Resolve the weights now: a missing file fails before any sampling or training.
            self.extractor = InceptionFeatures(
                inception_weights,
                cache_dir=self.cache_dir,
                allow_download=allow_download,
                device=device,
                batch_size=self.suite.batch_size,
                progress=progress,
            )
        self._reference: _Reference | None = None
        # (model, held-out accuracy, data it was trained on), or what makes it on first use.
        self._classifier_source = classifier
        self._classifier: tuple[Any, float, str] | None = None

    # -- reference -------------------------------------------------------------------------

    def _load_reference(self) -> _Reference:
        if self._reference is not None:
            return self._reference
        source = self._reference_source
        labels = None
        if isinstance(source, str) and not Path(source).expanduser().is_dir():
            raise ImageInputError(
                f"the reference {source!r} is not a folder of images; the evaluation module "
                "loads no dataset by name: pass the images (a tensor, a folder or a sampler). "
                "`ganzoo eval --reference NAME` and ganzoo.data.load_images load datasets by name."
            )
        count = self.suite.reference_images_wanted(_available(source))
        images = _resolve_counted(source, count, self.suite, self.value_range, "reference")
        labels = _labels_for(self._reference_labels, images, self.suite.seed, "reference")
        self._reference = _Reference(self.reference_name, self.split, images, labels)
        return self._reference

    def _reference_cache_path(self, ref: _Reference) -> Path:
        """Where ``ref``'s features are cached; the images are hashed once per reference."""
        if ref.cache_path is None:
            key = digest(
                ref.name,
                ref.split,
                str(len(ref.images)),
                self.extractor.extractor_id,
                content_digest(ref.images),
            )
            ref.cache_path = self.cache_dir / "reference-stats" / f"{key}.npz"
        return ref.cache_path

    def _read_reference_cache(self, ref: _Reference) -> bool:
        """Fill ``ref`` from the on-disk cache; False when there is no cached entry."""
        path = self._reference_cache_path(ref)
        if not (self.use_reference_cache and path.is_file()):
            return False
        with np.load(path) as data:
            ref.features = data["features"]
            ref.stats = GaussianStats(data["mu"], data["sigma"], len(ref.features))
        ref.cache = "hit"
        return True

    def _store_reference_features(self, ref: _Reference, features: np.ndarray) -> None:
        """Keep ``features`` (and their statistics) for ``ref``, and cache them on disk."""
        if len(features) != len(ref.images):
            raise SuiteError(
                f"{len(features)} reference features for {len(ref.images)} reference images"
            )
        ref.features = features
        ref.stats = stats = feature_statistics(features)
        if self.use_reference_cache:

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as f:
                    np.savez(f, features=features, mu=stats.mu, sigma=stats.sigma)

            atomic_write(self._reference_cache_path(ref), write)
            ref.cache = "miss"

    def _reference_features(self, ref: _Reference) -> None:
        if ref.features is not None or self.extractor is None:
            return
        started = time.perf_counter()
        if not self._read_reference_cache(ref):
            self._store_reference_features(ref, self.extractor(ref.images))
        ref.seconds["reference_features"] = time.perf_counter() - started
        log.debug(
            "reference features (cache %s) in %.1f s", ref.cache, ref.seconds["reference_features"]
        )

    def reference_features(self) -> np.ndarray:
        """The reference set's Inception features (computed or read from the cache once)."""
        ref = self._load_reference()
        self._reference_features(ref)
        if ref.features is None:
            raise SuiteError(f"suite {self.suite.name!r} computes no Inception features")
        return ref.features

    # -- pieces for evaluating across processes ---------------------------------------------
    # Under torch.distributed each process extracts features for its share of the images; the
    # caller gathers them (see ganzoo.engine.sharded_evaluation) and one process scores them.

    @property
    def uses_features(self) -> bool:
        """Whether the suite needs Inception features (FID, KID or PRDC)."""
        return self.extractor is not None

    def reference_images(self) -> torch.Tensor:
        """The reference images, uint8 (N, C, H, W), loaded once."""
        return self._load_reference().images

    def load_cached_reference_features(self) -> bool:
        """True when the reference features are ready (computed already or read from the
        cache); False when they still have to be extracted."""
        ref = self._load_reference()
        if ref.features is not None or self.extractor is None:
            return True
        return self._read_reference_cache(ref)

    def set_reference_features(self, features: np.ndarray) -> None:
        """Use ``features`` (extracted elsewhere, e.g. gathered from several processes) as the
        reference set's features, and cache them like extracted ones."""
        self._store_reference_features(self._load_reference(), np.asarray(features))

    def extract(self, images: torch.Tensor) -> np.ndarray:
        """Features of uint8 ``images`` with the suite's extractor."""
        if self.extractor is None:
            raise SuiteError(f"suite {self.suite.name!r} computes no Inception features")
        return self.extractor(images)

    # -- what each metric needs ------------------------------------------------------------

    def _why_not(self, metric: Metric, inputs: MetricInputs) -> str:
        """Why ``metric`` cannot be computed here ("" when it can)."""
        if metric.inputs == "classifier":
            if self.digits is False:
                return "switched off (digits=False)"
            if self.digits is None and self.reference_name not in DIGIT_DATASETS:
                return (
                    f"the reference {self.reference_name!r} is not a digit dataset "
                    "(pass digits=True / --digits to count digit modes anyway)"
                )
            if self._classifier_source is None:
                return "no digit classifier was given (Evaluator(classifier=...))"
        if metric.inputs == "generator" and inputs.sample is None:
            return "it needs the generator itself (a sampler), not a set of images"
        if metric.inputs == "points":
            return "it scores 2-D points (ganzoo bench mode-collapse computes it), not images"
        return ""

    def digit_classifier(self) -> tuple[Any, float, str]:
        """(model, held-out accuracy, data name) of the digit classifier, made on first use."""
        if self._classifier is None:
            source = self._classifier_source
            self._classifier = tuple(source(self.cache_dir) if callable(source) else source)
        return self._classifier

    # -- running ---------------------------------------------------------------------------

    def evaluate(
        self,
        generated: ImageSource,
        num_samples: int | None = None,
        *,
        features: np.ndarray | None = None,
        generated_labels: Any = None,
    ) -> dict[str, Any]:
        """Compute the suite's metrics for ``generated`` against the reference.

        ``features``: the generated images' features, extracted already (one row per image,
        in order); by default they are extracted here. ``generated_labels``: the class each
        generated image was drawn for (a conditional generator), for intra-class FID.
        """
        suite = self.suite
        timings: dict[str, float] = {}
        started = time.perf_counter()
        ref = self._load_reference()
        self._reference_features(ref)
        timings.update(ref.seconds)

        t0 = time.perf_counter()
        images = _resolve_counted(
            generated, num_samples or suite.num_samples, suite, self.value_range, "generated"
        )
        timings["generated_images"] = time.perf_counter() - t0
        results: dict[str, Any] = {"suite": suite.name}
        protocol: dict[str, Any] = {
            "suite": suite.name,
            "metrics": list(suite.metrics),
            "num_generated": len(images),
            "num_reference": len(ref.images),
            "reference": ref.name,
            "reference_split": ref.split,
            "seed": suite.seed,
            "reference_whole_set": suite.reference_whole_set,
            "note": FID_NOTE,
        }
        if self.extractor is not None:
            t0 = time.perf_counter()
            if features is None:
                features = self.extractor(images)
            elif len(features) != len(images):
                raise SuiteError(
                    f"{len(features)} precomputed features for {len(images)} generated images"
                )
            timings["generated_features"] = time.perf_counter() - t0
            protocol.update(self.extractor.describe())
            protocol["reference_cache"] = ref.cache
        inputs = MetricInputs(
            suite,
            features,
            reference_features=ref.features,
            reference_stats=ref.stats,
            images=images,
            reference_images=ref.images,
            classifier=self.digit_classifier,
            extractor=self.extractor,
            labels=_labels_for(generated_labels, images, suite.seed, "generated"),
            reference_labels=None if ref.labels is None else np.asarray(ref.labels),
            sample=generated if _is_sampler(generated) else None,
        )
        skipped: dict[str, str] = {}
        for name in suite.metrics:
            metric = get_metric(name)
            why_not = self._why_not(metric, inputs)
            if why_not:
                skipped[name] = why_not
                continue
            values, extra = _compute(name, metric, inputs)
            results.update(values)
            skipped.update(extra.pop("skipped", {}))
            protocol.update(extra)
        if skipped:
            protocol["skipped"] = skipped
        timings["total"] = time.perf_counter() - started
        protocol["seconds"] = {k: round(v, 2) for k, v in timings.items()}
        results["protocol"] = protocol
        return results


def run_suite(
    suite: Suite | str | os.PathLike,
    generated: ImageSource,
    reference: ImageSource,
    *,
    num_samples: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Evaluate ``generated`` against ``reference`` with ``suite``; see :class:`Evaluator`."""
    return Evaluator(suite, reference, **kwargs).evaluate(generated, num_samples=num_samples)


def write_results_json(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write results as JSON atomically: on any error no (partial) file is left behind."""
    return write_json_atomic(path, _jsonable(results))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def _describe_source(source: ImageSource) -> str:
    if isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        return str(path.resolve()) if path.is_dir() else str(source)
    if isinstance(source, torch.Tensor | np.ndarray):
        return "images"
    return "sampler"


def _resolve_counted(
    source: ImageSource,
    count: int,
    suite: Suite,
    value_range: tuple[float, float],
    what: str,
) -> torch.Tensor:
    """Images from any source; a finite source with fewer than ``count`` gives all it has."""
    available = _available(source)
    if available is not None and available < count:
        log.warning(
            "the %s images number %d, fewer than the suite's %d: using %d (FID depends on "
            "the count; the result records it)",
            what,
            available,
            count,
            available,
        )
        count = available
    images = resolve_images(
        source, count, batch_size=suite.batch_size, value_range=value_range, seed=suite.seed
    )
    minimum = max(suite.pr_k, suite.dc_k) + 1
    if len(images) < minimum:
        raise ImageInputError(f"only {len(images)} {what} images; need at least {minimum}")
    return images


def _labels_for(labels: Any, images: torch.Tensor, seed: int, what: str) -> np.ndarray | None:
    """``labels`` (one per source image) cut down the way the images were: the seeded subset
    that :func:`resolve_images` takes from a tensor, or as they are for a sampler's images."""
    if callable(labels):  # known once the images are drawn (a sampler's own labels)
        labels = labels()
    if labels is None:
        return None
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if len(labels) == len(images):
        return labels
    if len(labels) < len(images):
        raise ImageInputError(f"{len(labels)} {what} labels for {len(images)} {what} images")
    return labels[choose_subset(len(labels), len(images), seed)]


def _compute(
    name: str, metric: Metric, inputs: MetricInputs
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``metric.compute(inputs)``; a plugin's own failure is one error naming the metric and its
    distribution, not a traceback from inside it."""
    try:
        return metric.compute(inputs)
    except EvaluationError:
        raise
    except Exception as exc:
        origin = METRICS.origin(name)
        if origin == "built-in":
            raise
        raise EvaluationError(
            f"the metric {name!r} ({origin}) failed: {type(exc).__name__}: {exc}; fix or "
            f"uninstall that distribution, or leave the metric out of the suite"
        ) from exc


def _is_sampler(source: ImageSource) -> bool:
    """A generator's sampling function, as opposed to images or a folder."""
    return callable(source) and not isinstance(source, torch.Tensor | np.ndarray)


def _available(source: ImageSource) -> int | None:
    if isinstance(source, torch.Tensor | np.ndarray):
        return len(source)
    if isinstance(source, str | os.PathLike):
        from evaluation.images import list_image_files

        return len(list_image_files(source))
    return None

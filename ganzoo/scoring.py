"""Scoring a trained run: ``ganzoo.evaluate(RUN_DIR)``, the library side of ``ganzoo eval``.

The generator of a checkpoint is sampled with seeded noise and scored by an evaluation suite
against the run's own training data (or a named dataset or a folder). With ``repeat=N`` the
same checkpoint is scored N times, each with fresh generator noise, fresh KID subsets and, where
the reference is a sample of a larger set, a fresh reference subset; the result then holds each
metric's mean and standard deviation over the repeats: the evaluation's own noise.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from ganzoo.errors import ConfigError, GanzooError
from ganzoo.sampling import LoadedGenerator

logger = logging.getLogger(__name__)

DEFAULT_SUITE = "default"


def load_for_scoring(run_dir_or_checkpoint: str | os.PathLike) -> LoadedGenerator:
    """The generator to score: a run directory's newest checkpoint, or a checkpoint file
    (``RUN_DIR/checkpoints/NAME.pt``) of a run."""
    from ganzoo.runs import CHECKPOINT_DIR
    from ganzoo.sampling import load_generator

    path = Path(run_dir_or_checkpoint)
    if path.is_file() and path.parent.name == CHECKPOINT_DIR:
        return load_generator(path.parent.parent, path)
    return load_generator(path)


def evaluate(
    run_dir_or_checkpoint: str | os.PathLike | LoadedGenerator,
    *,
    suite: Any = None,
    checkpoint: str | os.PathLike | None = None,
    num_samples: int | None = None,
    reference: str | None = None,
    reference_split: str | None = None,
    data_root: str | os.PathLike = "data",
    inception_weights: str | os.PathLike | None = None,
    digits: bool | None = None,
    device: str = "auto",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    repeat: int = 1,
    extractor: Any = None,
) -> dict[str, Any]:
    """Score a run's checkpoint with an evaluation suite; the results dict of ``ganzoo eval``.

    ``run_dir_or_checkpoint``: a run directory (its newest checkpoint, or ``checkpoint``), a
    checkpoint file of a run, or a generator already loaded. ``suite``: a suite name, YAML path
    or :class:`evaluation.Suite` (default ``default``), with ``num_samples`` and
    ``reference_split`` replacing its own. ``reference``: a dataset name or a folder of images
    (default: the run's training data). ``extractor`` replaces the Inception network (tests).

    ``repeat``: score N times. Repeat k (from 0) draws the generator's noise from seed
    ``config.seed + k`` and KID subsets from ``suite.seed + k``; a reference that is a subset of
    its dataset is a fresh random subset for k >= 1 (repeat 0 is exactly the single
    evaluation). With N >= 2 each metric's value is the mean over the repeats and
    ``results["repeat"]`` holds the values, ``mean`` and ``std`` (sample std, ddof 1).
    """
    from evaluation import EvaluationError, load_suite

    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ConfigError(f"repeat must be a whole number of evaluations, 1 or more; got {repeat}")
    if num_samples is not None and num_samples < 1:
        raise ConfigError(f"num_samples must be positive, got {num_samples}")
    try:
        chosen = load_suite(DEFAULT_SUITE if suite is None else suite)
        if num_samples is not None:
            chosen = chosen.replace(num_samples=num_samples)
        if reference_split is not None:
            chosen = chosen.replace(reference_split=reference_split)
        if isinstance(run_dir_or_checkpoint, LoadedGenerator):
            loaded = run_dir_or_checkpoint
        elif checkpoint is not None:
            from ganzoo.sampling import load_generator

            loaded = load_generator(run_dir_or_checkpoint, checkpoint)
        else:
            loaded = load_for_scoring(run_dir_or_checkpoint)
        scorer = _RunScorer(
            loaded,
            chosen,
            reference=reference,
            data_root=data_root,
            inception_weights=inception_weights or loaded.config.eval.inception_weights,
            digits=digits,
            device=_device(device),
            cache_dir=cache_dir,
            progress=progress,
            extractor=extractor,
        )
        runs = [scorer.score(k) for k in range(repeat)]
    except EvaluationError as exc:
        raise GanzooError(str(exc)) from None
    if repeat == 1:
        return runs[0]
    return summarize_repeats(runs, scorer.noise_seeds(repeat), scorer.reference_varies)


def _device(name: str) -> str:
    from ganzoo.engine.factories import resolve_device

    return str(resolve_device(name, key="device"))


class _RunScorer:
    """One checkpoint, one suite, one reference source; scores repeat k on demand."""

    def __init__(
        self,
        loaded: LoadedGenerator,
        suite: Any,
        *,
        reference: str | None,
        data_root: str | os.PathLike,
        inception_weights: Any,
        digits: bool | None,
        device: str,
        cache_dir: Any,
        progress: bool,
        extractor: Any,
    ) -> None:
        from ganzoo.engine.handlers.evaluation import digit_classifier_for

        self.loaded, self.suite, self.device = loaded, suite, device
        config = loaded.config
        self.kwargs: dict[str, Any] = {
            "inception_weights": inception_weights,
            "cache_dir": cache_dir,
            "device": device,
            "progress": progress,
            "digits": digits,
        }
        self.extractor = extractor
        from ganzoo.digit_classifier import mnist5k_classifier

        # the run's own digit classifier, else mnist5k's (counts modes where the suite asks)
        self.classifier = digit_classifier_for(config.data, cache_dir) or mnist5k_classifier
        self.note = ""
        self.labelled = False
        if reference is not None and is_folder_reference(reference):
            self.folder: str | None = str(Path(reference).expanduser())
            self.name = str(Path(self.folder).resolve())
            self.dataset = None
        else:
            self.folder = None
            if reference is None:
                from ganzoo.engine.handlers.evaluation import reference_name
                from ganzoo.engine.run_data import build_run_dataset

                train = suite.reference_split == "train"
                self.dataset = build_run_dataset(config, train=train)
                self.name = reference_name(config)
                # intra-class FID of a conditional generator against the run's own classes
                self.labelled = train and bool(config.generator.get("num_classes"))
            else:
                self.dataset, self.note = named_reference(
                    reference, data_root, suite.reference_split == "train", config.data.image_size
                )
                self.name = reference
        from ganzoo.engine.handlers.evaluation import reference_request

        count = reference_request(suite)  # the whole set for the final protocol
        self.reference_varies = self.folder is not None or (
            self.dataset is not None and len(self.dataset) > count
        )

    def noise_seeds(self, repeat: int) -> list[int]:
        return [self.loaded.config.seed + k for k in range(repeat)]

    def _reference(self, k: int) -> tuple[Any, Any]:
        """Repeat k's reference images and labels (repeat 0: the class-balanced selection a
        single evaluation uses; later ones: a seeded random subset when there is a choice)."""
        from ganzoo.engine.run_data import reference_from

        if self.folder is not None:
            return self.folder, None
        from ganzoo.engine.handlers.evaluation import reference_request

        count = reference_request(self.suite)
        fresh = k > 0 and len(self.dataset) > count
        images, labels = reference_from(self.dataset, count, seed=k if fresh else None)
        return images, labels if self.labelled else None

    def score(self, k: int) -> dict[str, Any]:
        from evaluation import Evaluator
        from ganzoo.architectures.protocol import num_classes_of
        from ganzoo.sampling import describe, make_sampler

        reference, labels = self._reference(k)
        suite = self.suite if k == 0 else self.suite.replace(seed=self.suite.seed + k)
        evaluator = Evaluator(
            suite,
            reference,
            reference_name=self.name,
            reference_labels=labels,
            classifier=self.classifier,
            extractor=self.extractor,
            **self.kwargs,
        )
        self.extractor = evaluator.extractor  # one Inception network for every repeat
        seed = self.loaded.config.seed + k
        sample = make_sampler(self.loaded.generator, seed=seed, device=self.device)
        if num_classes_of(self.loaded.generator):  # labels go along for intra-class FID
            results = evaluator.evaluate(sample, generated_labels=lambda: sample.labels)
        else:
            results = evaluator.evaluate(sample)
        results["protocol"]["generated"] = describe(self.loaded)
        if self.note:
            results["protocol"]["reference_note"] = self.note
        if k:
            logger.info("repeat %d: %s", k + 1, _brief(results))
        return results


def _brief(results: dict[str, Any]) -> str:
    from evaluation import result_keys

    return ", ".join(
        f"{k}={results[k]:.4g}" for k in result_keys() if isinstance(results.get(k), int | float)
    )


def is_folder_reference(reference: str) -> bool:
    """A folder of images (it exists, or the name looks like a path, which then fails)."""
    candidate = Path(reference).expanduser()
    if candidate.is_dir():
        return True
    if candidate.exists() or os.sep in reference or reference.startswith((".", "~")):
        problem = "is a file, not a folder" if candidate.exists() else "does not exist"
        raise ConfigError(
            f"--reference {reference}: the folder {candidate} {problem}; give a folder of "
            f"images or a dataset name such as mnist5k"
        )
    return False


def named_reference(
    name: str, data_root: str | os.PathLike, train: bool, image_size: int | None
) -> tuple[Any, str]:
    """(dataset, note): dataset ``name`` through ganzoo.data at the generated images' size
    (what a GAN trained on that data was shown), and a note when that meant resizing."""
    from ganzoo.data import build_dataset, dataset_info

    info = dataset_info(name)  # unknown names: a DataError listing the datasets
    resize = image_size if image_size and image_size != info.image_size else None
    dataset = build_dataset(name, data_root, train=train, image_size=resize)
    note = f"reference resized from {info.image_size} to {resize} pixels" if resize else ""
    return dataset, note


def summarize_repeats(
    runs: list[dict[str, Any]], noise_seeds: list[int], reference_varies: bool
) -> dict[str, Any]:
    """One results dict for N repeats: each metric's mean at the top level (so readers of a
    single evaluation's JSON find a number), and under ``repeat`` the values, means and
    sample standard deviations. A metric with fewer than two finite values has std None: the
    spread of one evaluation is unknown, not 0."""
    from evaluation import result_keys

    keys = result_keys()  # plugin metrics' keys too
    values: dict[str, list[float]] = {}
    for key in keys:
        column = [r.get(key) for r in runs]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in column):
            values[key] = [float(v) for v in column]
    mean: dict[str, float] = {}
    std: dict[str, float | None] = {}
    for key, column in values.items():
        finite = [v for v in column if math.isfinite(v)]
        mean[key] = sum(finite) / len(finite) if finite else math.nan
        if len(finite) < 2:
            std[key] = None
        else:
            squares = sum((v - mean[key]) ** 2 for v in finite)
            std[key] = math.sqrt(squares / (len(finite) - 1))
    first = runs[0]
    protocol = dict(first.get("protocol", {}))
    protocol["repeat"] = {
        "count": len(runs),
        "noise_seeds": noise_seeds,
        "reference": "a fresh subset each repeat" if reference_varies else "the same each repeat",
    }
    results = {k: v for k, v in first.items() if k not in keys and k != "protocol"}
    results.update(mean)
    results["repeat"] = {"count": len(runs), "values": values, "mean": mean, "std": std}
    results["protocol"] = protocol
    return results

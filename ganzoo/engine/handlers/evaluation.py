"""Periodic evaluation during training: metrics, a best checkpoint and a collapse signal.

Every ``eval.every`` iterations (and at the end) the generator is sampled with fixed noise and
scored by an evaluation suite against the training data. Each result goes to TensorBoard
(``eval/<metric>``) and to ``metrics.jsonl`` as ``{"iteration", "epoch", "eval": {...}}``. The
checkpoint with the best value so far of the suite's headline metric (FID unless the suite says
otherwise; better lower or higher as the metric registry declares) is kept as
``checkpoints/best_<headline>.pt``, e.g. ``best_fid.pt`` (DCGAN's FID often worsens late in
training: the best generator is not the last). After each evaluation the history
is checked for a sustained drop in diversity (coverage, recall, modes) while training goes on;
the first such point is logged as ``{"iteration", "collapse": {...}}`` and as
``eval/collapse`` in TensorBoard.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver
from torch import nn

from evaluation import metric_direction, result_keys
from ganzoo.engine.handlers.checkpoints import save_or_explain
from ganzoo.engine.runlog import RunLog
from ganzoo.engine.state import RunStatus
from ganzoo.errors import GanzooError
from ganzoo.runs import CHECKPOINT_DIR

logger = logging.getLogger(__name__)


def best_checkpoint_name(headline: str) -> str:
    """``best_fid.pt``: the file that holds the best checkpoint by ``headline``."""
    return f"best_{headline}.pt"


BEST_CHECKPOINT = best_checkpoint_name("fid")  # the default suites' headline


def reference_name(config: Any) -> str:
    """A name for the reference set: the dataset's own when unfiltered (so digit datasets get
    mode counts), else the dataset with its class filter."""
    data = config.data
    if data.classes:
        return f"{data.name}[{','.join(str(c) for c in data.classes)}]"
    return data.name


# Full MNIST trains the digit classifier on this many training digits (class-balanced) and
# reports its accuracy on the official test split; more adds minutes of CPU and little accuracy.
MNIST_CLASSIFIER_TRAIN = 12_000


def digit_classifier_for(data: Any, cache_dir: Any = None) -> tuple[Any, float, str] | None:
    """A digit classifier trained on full MNIST when the run's data is ``mnist`` and its files
    are present (cached after the first call); None means the default mnist5k classifier."""
    if data.name != "mnist":
        return None
    from evaluation.modes import load_or_train_digit_classifier
    from ganzoo.data import build_dataset
    from ganzoo.errors import DataError

    try:
        train = build_dataset("mnist", data.root, train=True, limit=MNIST_CLASSIFIER_TRAIN)
        test = build_dataset("mnist", data.root, train=False)
    except DataError as exc:
        logger.info("counting modes with the mnist5k classifier (full MNIST unavailable: %s)", exc)
        return None
    model, accuracy = load_or_train_digit_classifier(
        cache_dir,
        images=train.images,
        labels=train.labels,
        test_images=test.images,
        test_labels=test.labels,
        data_name=f"mnist-{len(train)}",
    )
    return model, accuracy, "mnist"


def reference_request(suite: Any) -> int:
    """How many training images to ask :func:`training_reference` for: all of them for a
    whole-set suite (the ``final`` protocol), else the suite's reference count."""
    return sys.maxsize if suite.reference_whole_set else suite.reference_count


def training_reference(config: Any, count: int, train: bool = True) -> Any:
    """Up to ``count`` uint8 images of the run's own data (its classes, size and channels),
    class-balanced; fewer when the data holds fewer."""
    from ganzoo.engine.run_data import reference_for

    return reference_for(config, count, train)[0]


def training_reference_labels(config: Any, count: int) -> Any:
    """The classes of :func:`training_reference`'s images (same selection), or None when the
    run's generator is unconditional (intra-class FID needs them)."""
    if not config.generator.get("num_classes"):
        return None
    from ganzoo.engine.run_data import reference_for

    return reference_for(config, count, train=True)[1]


def build_evaluator(
    config: Any,
    device: Any,
    rank: int = 0,
    dataset: Any = None,
    suite: Any = None,
    num_samples: int | None = None,
) -> Any:
    """An :class:`evaluation.Evaluator` for ``config.eval`` (or ``suite`` with
    ``num_samples``, e.g. the final protocol's) against the training data.

    ``dataset``: the run's training data, already built (the reference is taken from it;
    None builds it); ``suite``: a suite name or one already parsed (None: ``config.eval.suite``
    with ``config.eval.num_samples``). Built before training
    starts, so missing Inception weights fail at once. Only rank 0 scores, so only rank 0 gets
    the full-MNIST digit classifier.
    """
    from evaluation import EvaluationError, Evaluator, load_suite
    from ganzoo.digit_classifier import mnist5k_classifier
    from ganzoo.engine.run_data import build_run_dataset, reference_from

    if suite is None:
        suite, num_samples = config.eval.suite, config.eval.num_samples
    try:
        suite = load_suite(suite)
        if num_samples is not None:
            suite = suite.replace(num_samples=num_samples)
        d = config.data
        if dataset is None:
            dataset = build_run_dataset(config, train=True)
        reference, labels = reference_from(dataset, reference_request(suite))
        count = len(reference)
        return Evaluator(
            suite,
            reference,
            reference_name=reference_name(config),
            reference_split="train",
            reference_num_samples=count,
            reference_labels=labels if config.generator.get("num_classes") else None,
            inception_weights=config.eval.inception_weights,
            device=device,
            classifier=(digit_classifier_for(d) or mnist5k_classifier) if rank == 0 else None,
        )
    except EvaluationError as exc:
        raise GanzooError(f"eval: {exc}") from None


def attach_periodic_evaluation(
    engine: Engine,
    config: Any,
    device: torch.device,
    status: RunStatus,
    sampling_generator: Callable[[], nn.Module],
    stop_requested: Callable[[], bool],
    run_log: RunLog | None,
    to_save: dict[str, Any],
    run_dir: Path,
    rank: int = 0,
    dataset: Any = None,
    suite: Any = None,
) -> None:
    """Evaluate every ``eval.every`` iterations and at the end (no-op when ``eval.every`` is
    null), and score with the final protocol when ``eval.final`` asks for it
    (:func:`attach_final_evaluation`).

    Under torch.distributed every rank attaches this: the ranks share the sampling and the
    feature extraction (:mod:`ganzoo.engine.sharded_evaluation`), rank 0 (the one with a
    ``run_log``) scores and writes. ``dataset`` and ``suite``: see :func:`build_evaluator`.
    """
    attach_final_evaluation(
        engine,
        config,
        device,
        status,
        sampling_generator,
        stop_requested,
        run_log,
        run_dir,
        rank,
        dataset=dataset,
    )
    if config.eval.every is None:
        return
    from ganzoo.engine.sharded_evaluation import evaluate_across_ranks

    evaluator = build_evaluator(
        config, device, rank, dataset=dataset, suite=suite, num_samples=config.eval.num_samples
    )
    last_evaluated = -1
    record_results = (
        _ResultRecorder(run_log, to_save, run_dir, evaluator.suite.headline_key)
        if run_log is not None
        else None
    )

    def evaluate(engine: Engine) -> None:
        nonlocal last_evaluated
        iteration = engine.state.iteration
        # The conditions below are the same on every rank (NaN and signals are all-reduced).
        if not status.healthy or last_evaluated == iteration:
            return  # NaN weights, or the end fell on an evaluation iteration
        if stop_requested():
            return  # stopped by Ctrl-C / SIGTERM: save and exit promptly, evaluate on resume
        last_evaluated = iteration
        generator = sampling_generator()
        try:
            results = evaluate_across_ranks(evaluator, generator, seed=config.seed, device=device)
        finally:
            generator.train()
        if record_results is not None:
            record_results(engine, results)

    engine.add_event_handler(
        Events.ITERATION_COMPLETED(every=config.eval.every) | Events.COMPLETED, evaluate
    )


class _ResultRecorder:
    """Rank 0's bookkeeping of results: metrics.jsonl, TensorBoard, the best checkpoint by
    ``headline``, collapse."""

    def __init__(
        self, run_log: RunLog, to_save: dict[str, Any], run_dir: Path, headline: str = "fid"
    ) -> None:
        self.run_log = run_log
        self.to_save = to_save
        self.run_dir = run_dir
        self.headline = headline
        self.history: list[dict[str, Any]] | None = None  # read when the first result comes
        self.best: _BestCheckpoint | None = None
        self.collapse_logged = False

    def _load_history(self) -> None:
        """Results already in metrics.jsonl (a resumed run continues its history)."""
        records = self.run_log.records()
        self.history = [
            {"iteration": r["iteration"], **r["eval"]}
            for r in records
            if isinstance(r.get("eval"), dict)
        ]
        self.collapse_logged = any("collapse" in r for r in records)
        self.best = _BestCheckpoint(self.to_save, self.run_dir, self.history, self.headline)

    def __call__(self, engine: Engine, results: dict[str, Any]) -> None:
        from evaluation import detect_collapse

        if self.history is None:
            self._load_history()
        iteration = engine.state.iteration
        history, run_log = self.history, self.run_log
        # After a resume, results from beyond the checkpoint belong to the lost steps.
        history[:] = [h for h in history if h["iteration"] < iteration]
        values = {k: float(results[k]) for k in result_keys() if results.get(k) is not None}
        history.append({"iteration": iteration, **values})
        record = {"iteration": iteration, "epoch": engine.state.epoch, "eval": values}
        record["protocol"] = {
            k: results["protocol"].get(k) for k in ("suite", "num_generated", "num_reference")
        }
        run_log.append(record)
        run_log.scalars(iteration, values, section="eval")
        protocol = record["protocol"]
        logger.info(
            "evaluation (%s, %s vs %s) at iteration %d: %s",
            protocol["suite"],
            protocol["num_generated"],
            protocol["num_reference"],
            iteration,
            ", ".join(f"{k}={v:.4g}" for k, v in values.items()),
        )
        self.best.update(engine, values.get(self.headline))

        report = detect_collapse(history)
        run_log.scalars(iteration, {"collapse": float(report.collapsed)}, section="eval")
        if report.collapsed and not self.collapse_logged:
            self.collapse_logged = True
            event = report.events[0]
            logger.warning(
                "diversity collapse flagged at iteration %d: %s fell %.0f%% from %.4g "
                "(iteration %d) to %.4g",
                report.iteration,
                event.metric,
                100 * event.relative_drop,
                event.peak_value,
                event.peak_iteration,
                event.value,
            )
            run_log.append({"iteration": iteration, "collapse": report.to_dict()})
        run_log.flush()


class _BestCheckpoint:
    """Keeps ``checkpoints/best_<headline>.pt`` for the best ``headline`` value seen (lowest or
    highest, as the metric registry declares), across resumes."""

    def __init__(
        self, to_save: dict[str, Any], run_dir: Path, history: list[dict[str, Any]], headline: str
    ) -> None:
        self.headline = headline
        self.lower = metric_direction(headline) == "lower"
        seen = [h[headline] for h in history if headline in h]
        worst = math.inf if self.lower else -math.inf
        self.best = (min if self.lower else max)(seen, default=worst)
        self.run_dir = run_dir
        saver = DiskSaver(str(run_dir / CHECKPOINT_DIR), require_empty=False, atomic=True)
        # A fixed file name: each better result replaces the previous best atomically.
        self.checkpoint = Checkpoint(
            to_save,
            saver,
            filename_pattern=best_checkpoint_name(headline).replace(".pt", ".{ext}"),
            n_saved=None,
        )

    def update(self, engine: Engine, value: float | None) -> None:
        if value is None or not (value < self.best if self.lower else value > self.best):
            return
        self.best = value
        save_or_explain(self.checkpoint, engine, self.run_dir)
        logger.info(
            "new best %s %.4g at iteration %d", self.headline, value, engine.state.iteration
        )


FINAL_EVAL_FILE = "final.json"  # in the run's eval/ folder, beside `ganzoo eval`'s results
# What a final record names about how it was measured.
PROTOCOL_KEYS = (
    "suite",
    "num_generated",
    "num_reference",
    "reference",
    "reference_split",
    "reference_whole_set",
    "seed",
    "feature_extractor",
    "weights_source",
    "weights_sha1",
)


def attach_final_evaluation(
    engine: Engine,
    config: Any,
    device: torch.device,
    status: RunStatus,
    sampling_generator: Callable[[], nn.Module],
    stop_requested: Callable[[], bool],
    run_log: RunLog | None,
    run_dir: Path,
    rank: int = 0,
    dataset: Any = None,
) -> None:
    """Score the generator with the declared final protocol (``eval.final``: by default 5,000
    samples against the whole training set) when training completes, and at each iteration
    in ``eval.final.at``. A run stopped by a signal or NaN is not scored (resume it, or score
    its checkpoint with ``ganzoo eval RUN --suite final``).

    Each result goes to ``metrics.jsonl`` as ``{"iteration", "epoch", "final": {...},
    "protocol": {...}}`` (counts, reference, Inception weights), to TensorBoard as
    ``final/<metric>``, and in full to ``eval/final.json`` (at the end) or
    ``eval/final-<iteration>.json`` (a declared point), where reports read it.
    """
    final = config.eval.final
    if not final.enabled and not final.at:
        return
    from ganzoo.engine.sharded_evaluation import evaluate_across_ranks

    # the run's own dataset (already built by the worker), not a second copy of it
    evaluator = build_evaluator(
        config, device, rank, dataset=dataset, suite=final.suite, num_samples=final.num_samples
    )
    scored: set[int] = set()
    declared = set(final.at)

    def evaluate(engine: Engine, at_end: bool) -> None:
        iteration = engine.state.iteration
        if not status.healthy or iteration in scored or stop_requested():
            return
        scored.add(iteration)
        generator = sampling_generator()
        try:
            results = evaluate_across_ranks(evaluator, generator, seed=config.seed, device=device)
        finally:
            generator.train()
        if run_log is not None and results is not None:
            name = FINAL_EVAL_FILE if at_end else f"final-{iteration}.json"
            record_final(run_log, run_dir / "eval" / name, engine, results)

    if declared:
        engine.add_event_handler(
            Events.ITERATION_COMPLETED(event_filter=lambda _, i: i in declared),
            evaluate,
            False,
        )
    if final.enabled:
        engine.add_event_handler(Events.COMPLETED, evaluate, True)


def record_final(run_log: RunLog, path: Path, engine: Engine, results: dict[str, Any]) -> None:
    """Write one final-protocol result: metrics.jsonl, TensorBoard and its JSON file."""
    from evaluation import write_results_json

    iteration = engine.state.iteration
    values = {k: float(results[k]) for k in result_keys() if results.get(k) is not None}
    protocol = {k: results["protocol"].get(k) for k in PROTOCOL_KEYS}
    run_log.append(
        {"iteration": iteration, "epoch": engine.state.epoch, "final": values, "protocol": protocol}
    )
    run_log.scalars(iteration, values, section="final")
    run_log.flush()
    results = {**results, "iteration": iteration}
    try:
        write_results_json(results, path)
    except OSError as exc:
        raise GanzooError(
            f"the final evaluation is in metrics.jsonl, but {path} could not be written: "
            f"{exc.strerror or exc}"
        ) from None
    logger.info(
        "final protocol (%s, %d generated vs %d reference) at iteration %d: %s",
        protocol["suite"],
        protocol["num_generated"] or 0,
        protocol["num_reference"] or 0,
        iteration,
        ", ".join(f"{k}={v:.4g}" for k, v in values.items()),
    )

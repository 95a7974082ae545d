"""``ganzoo eval``: score a trained run, or any folder of images, with an evaluation suite.

    ganzoo eval RUN_DIR [--checkpoint FILE] [--suite NAME_OR_FILE] [--num-samples N]
    ganzoo eval --images DIR --reference DATASET_OR_DIR [--suite ...] [--out FILE.json]

Prints a table and writes the results JSON (``RUN_DIR/eval/<suite>.json`` for a run). The maths
lives in the ``evaluation`` package; this module finds the images and turns the evaluation's
errors into ganzoo's one-paragraph messages.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from evaluation import result_keys
from ganzoo.errors import ConfigError, GanzooError, describe_os_error

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="FID, KID, precision/recall, density/coverage and mode counts",
        description="Evaluate a trained run (RUN_DIR) or a folder of images (--images) against "
        "a reference dataset or folder with an evaluation suite; prints a table and writes JSON.",
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="a run directory")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint file (default: the newest)")
    parser.add_argument(
        "--images", type=Path, metavar="DIR", help="folder of images (any format torchvision reads)"
    )
    parser.add_argument(
        "--reference",
        metavar="DATASET_OR_DIR",
        help="a folder of images or a dataset name (mnist5k, mnist, fashion_mnist, cifar10...); "
        "default for a run: its training data",
    )
    parser.add_argument("--suite", default="default", metavar="NAME_OR_FILE")
    parser.add_argument("--num-samples", type=int, metavar="N", help="generated images to score")
    parser.add_argument("--out", type=Path, metavar="FILE.json", help="where to write the JSON")
    parser.add_argument("--inception-weights", type=Path, metavar="PATH")
    parser.add_argument("--data-root", default="data", help="root of torchvision-style datasets")
    parser.add_argument(
        "--reference-split", choices=("train", "test"), default=None, help="default: the suite's"
    )
    parser.add_argument(
        "--digits", action="store_true", help="count digit modes even for a non-digit reference"
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    parser.add_argument("--cache-dir", type=Path, help="evaluation cache (default: ~/.cache/...)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    parser.set_defaults(func=eval_command)


def eval_command(args: argparse.Namespace) -> int:
    from evaluation import EvaluationError

    if (args.run_dir is None) == (args.images is None):
        raise ConfigError(
            "give either a run directory (`ganzoo eval RUN_DIR`) or a folder of images "
            "(`ganzoo eval --images DIR --reference DATASET_OR_DIR`), not both or neither"
        )
    if args.num_samples is not None and args.num_samples < 1:
        raise ConfigError(f"--num-samples must be positive, got {args.num_samples}")
    args.device = _device(args.device)
    from evaluation import write_results_json

    try:
        suite = _suite(args)
        out = args.out or (
            Path(args.run_dir) / "eval" / f"{suite.name}.json"
            if args.run_dir is not None
            else Path(f"eval-{suite.name}.json")
        )
        check_writable(out)  # before minutes of scoring, not after
        if args.run_dir is not None:
            results = _evaluate_run(args, suite)
        else:
            results = _evaluate_folder(args, suite)
    except EvaluationError as exc:
        raise GanzooError(str(exc)) from None
    print(format_table(results), flush=True)  # first: the scores survive a failed write
    try:
        write_results_json(results, out)
    except OSError as exc:
        raise GanzooError(
            f"the results above were not saved: cannot write {out}: {exc.strerror or exc}. "
            f"Free disk space or choose another --out, and evaluate again."
        ) from None
    print(out)
    return 0


def check_writable(out: Path) -> None:
    """Refuse an output path that cannot be written (a directory, a read-only or missing place)
    by trying: the parent is created and a temporary file written and removed there."""
    if out.is_dir():
        raise ConfigError(
            f"--out {out} is a directory; give a file name, e.g. --out {out / 'scores.json'}"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"):
            pass
        if out.exists() and not os.access(out, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the results to {out}: {describe_os_error(out, exc)}; choose a "
            f"writable file with --out FILE.json"
        ) from None


def _device(name: str) -> str:
    """``--device`` checked as ``train.device`` is: auto, cpu, cuda, cuda:N (or mps)."""
    import torch

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", name):
        raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {name!r}")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {name}: CUDA is not available here; use --device auto or cpu"
            )
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: MPS is not available here; use --device auto or cpu")
    return name


def _suite(args: argparse.Namespace):
    from evaluation import load_suite

    suite = load_suite(args.suite)
    if args.num_samples is not None:
        suite = suite.replace(num_samples=args.num_samples)
    if args.reference_split is not None:
        suite = suite.replace(reference_split=args.reference_split)
    return suite


def _evaluator_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from ganzoo.digit_classifier import mnist5k_classifier

    return {
        "inception_weights": args.inception_weights,
        "cache_dir": args.cache_dir,
        "device": args.device,
        "progress": args.progress,
        "digits": True if args.digits else None,
        "classifier": mnist5k_classifier,  # counts modes when the suite and data ask for it
    }


def _evaluate_folder(args: argparse.Namespace, suite: Any) -> dict[str, Any]:
    from evaluation import Evaluator
    from evaluation.images import list_image_files

    if args.reference is None:
        raise ConfigError("--images needs --reference DATASET_OR_DIR to compare against")
    files = list_image_files(args.images)  # fails early, with the evaluation's message
    reference, name, note = _reference(args, suite, _image_size(files[0]))
    evaluator = Evaluator(suite, reference, reference_name=name, **_evaluator_kwargs(args))
    results = evaluator.evaluate(str(args.images))
    results["protocol"]["generated"] = str(args.images.resolve())
    if note:
        results["protocol"]["reference_note"] = note
    return results


def _image_size(path: Path) -> int | None:
    from PIL import Image

    with Image.open(path) as img:
        width, height = img.size
    return width if width == height else None


def _reference(args: argparse.Namespace, suite, image_size: int | None) -> tuple[Any, str, str]:
    """(images or folder, name, note): a folder as it is, a dataset name through ganzoo.data
    at the generated images' size (what a GAN trained on that data was shown)."""
    candidate = Path(args.reference).expanduser()
    if candidate.is_dir():
        return str(candidate), str(candidate.resolve()), ""
    if candidate.exists() or os.sep in args.reference or args.reference.startswith((".", "~")):
        problem = "is a file, not a folder" if candidate.exists() else "does not exist"
        raise ConfigError(
            f"--reference {args.reference}: the folder {candidate} {problem}; give a folder of "
            f"images or a dataset name such as mnist5k"
        )
    from ganzoo.data import build_dataset, dataset_info, load_images

    name = args.reference
    info = dataset_info(name)  # unknown names: a DataError listing the datasets
    train = suite.reference_split == "train"
    available = len(build_dataset(name, args.data_root, train=train))
    count = min(suite.reference_count, available)
    if count < suite.reference_count:
        logger.warning("%s has %d images, fewer than the suite's %d", name, available, count)
    resize = image_size if image_size and image_size != info.image_size else None
    images = load_images(name, args.data_root, count, train=train, image_size=resize)
    note = f"reference resized from {info.image_size} to {resize} pixels" if resize else ""
    return images, name, note


def _evaluate_run(args: argparse.Namespace, suite: Any) -> dict[str, Any]:
    from evaluation import Evaluator
    from ganzoo.architectures.protocol import num_classes_of
    from ganzoo.engine.handlers.evaluation import (
        digit_classifier_for,
        reference_name,
        training_reference,
        training_reference_labels,
    )
    from ganzoo.sampling import describe, load_generator, make_sampler

    loaded = load_generator(args.run_dir, args.checkpoint)
    print(f"scoring {loaded.checkpoint} (iteration {loaded.iteration})", flush=True)
    config = loaded.config
    kwargs = _evaluator_kwargs(args)
    inception_weights = kwargs.pop("inception_weights") or config.eval.inception_weights
    kwargs["classifier"] = digit_classifier_for(config.data, args.cache_dir) or kwargs["classifier"]
    d = config.data
    if args.reference is not None:
        reference, name, note = _reference(args, suite, d.image_size)
        reference_labels = None  # a named dataset brings its own labels
    else:
        train = suite.reference_split == "train"
        reference = training_reference(config, suite.reference_count, train=train)
        name, note = reference_name(config), ""
        reference_labels = training_reference_labels(config, len(reference)) if train else None
    evaluator = Evaluator(
        suite,
        reference,
        reference_name=name,
        reference_labels=reference_labels,
        inception_weights=inception_weights,
        **kwargs,
    )
    sample = make_sampler(loaded.generator, seed=config.seed, device=kwargs["device"])
    if num_classes_of(loaded.generator):  # labels go along for intra-class FID
        results = evaluator.evaluate(sample, generated_labels=lambda: sample.labels)
    else:
        results = evaluator.evaluate(sample)
    results["protocol"]["generated"] = describe(loaded)
    if note:
        results["protocol"]["reference_note"] = note
    return results


def format_table(results: dict[str, Any]) -> str:
    """The metrics, then the protocol facts a reader needs to compare numbers."""
    rows = [(key, _fmt(results[key])) for key in result_keys() if key in results]
    protocol = results.get("protocol", {})
    generated = protocol.get("generated")
    if isinstance(generated, dict) and "checkpoint" in generated:
        rows.append(
            ("checkpoint", f"{generated['checkpoint']} (iteration {generated['iteration']})")
        )
    for key in (
        "suite",
        "num_generated",
        "num_reference",
        "reference",
        "reference_split",
        "weights_source",
        "reference_cache",
        "kid_note",
    ):
        if key in protocol:
            rows.append((key, str(protocol[key])))
    for metric, why in protocol.get("skipped", {}).items():
        rows.append((f"{metric} skipped", why))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
        return text.lstrip("-") if float(text) == 0 else text  # -0.0000 is 0
    return str(value)

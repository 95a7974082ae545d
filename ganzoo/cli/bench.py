"""``ganzoo bench mode-collapse``: the standard mode-collapse benchmarks, over seeds.

Each (task, activation, seed) run is appended to ``OUT/runs.jsonl`` as soon as it finishes, and
a rerun with the same settings skips the runs already there. The summary (mean +- sample std over
seeds per activation) is printed and written to ``OUT/summary.csv`` and ``OUT/summary.md``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ganzoo.activations import create_activation
from ganzoo.data.mixtures import mixture_names
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.losses import get_loss
from ganzoo.modecollapse.runner import MixtureSettings, run_mixture_benchmark
from ganzoo.modecollapse.stacked_mnist import (
    StackedSettings,
    digit_classifier,
    run_stacked_mnist_benchmark,
)
from ganzoo.modecollapse.store import append_record, load_records, run_key
from ganzoo.modecollapse.table import format_markdown, format_text, summarize, write_csv

logger = logging.getLogger(__name__)

DEFAULT_ACTIVATIONS = "psf,leaky_relu,prelu,elu"
BUILTIN_TASKS = ("ring8", "grid25", "stacked_mnist")  # and any 2-D mixture dataset a plugin adds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run benchmarks that compare activations",
        description="Benchmarks that compare activations over several seeds.",
    )
    actions = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    defaults = MixtureSettings()
    mc = actions.add_parser(
        "mode-collapse",
        help="mode-collapse benchmarks: 2-D mixtures and Stacked MNIST (VEEGAN / PacGAN)",
        description="Train a GAN once per activation and seed, with the activation in every "
        "hidden layer of both networks: the mlp GAN on a 2-D Gaussian mixture (ring8, grid25; "
        "modes covered, share of high-quality samples and reverse KL of the mode histogram from "
        "2,500 samples) or a small DCGAN on Stacked MNIST (stacked_mnist; modes covered out of "
        "1,000 and KL to uniform, counted with the digit classifier per channel). Prints mean ± "
        "std over seeds.",
    )
    mc.add_argument(
        "--activations",
        default=DEFAULT_ACTIVATIONS,
        help=f"comma-separated registered activation names (default {DEFAULT_ACTIVATIONS})",
    )
    mc.add_argument("--seeds", type=int, default=5, help="number of seeds, 0..N-1 (default 5)")
    mc.add_argument(
        "--task",
        default="ring8",
        help=f"one of {', '.join(BUILTIN_TASKS)}, or a plugin's 2-D mixture dataset "
        "(default ring8)",
    )
    stacked = StackedSettings()
    mc.add_argument(
        "--iterations",
        type=int,
        default=None,
        help=f"generator updates per run (default {defaults.iterations}; "
        f"{stacked.iterations} for stacked_mnist)",
    )
    mc.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"default {defaults.batch_size} ({stacked.batch_size} for stacked_mnist)",
    )
    mc.add_argument(
        "--architecture",
        default=None,
        help="stacked_mnist only: dcgan (default) or resnet (the SNGAN ResNet at 28 px)",
    )
    mc.add_argument("--loss", default=None, help="a registered loss (default bce)")
    mc.add_argument(
        "--n-critic", type=int, default=None, help="discriminator updates per generator update"
    )
    mc.add_argument("--threads", type=int, default=1, help="torch CPU threads per run (default 1)")
    mc.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default runs/bench/mode-collapse/<task>/)",
    )
    mc.set_defaults(func=mode_collapse_command)


def _parse_activations(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--activations needs at least one activation name, e.g. 'psf,elu'.")
    for name in names:
        create_activation(name)  # an unknown or broken name fails here, before any training
    return list(dict.fromkeys(names))


def _check_task(task: str) -> None:
    tasks = (*BUILTIN_TASKS, *(name for name in mixture_names() if name not in BUILTIN_TASKS))
    if task not in tasks:
        raise GanzooError(f"unknown task {task!r}; choose one of {', '.join(tasks)}.")


def mode_collapse_command(args: argparse.Namespace) -> int:
    _check_task(args.task)
    activations = _parse_activations(args.activations)
    for option in ("seeds", "iterations", "batch_size", "threads", "n_critic"):
        value = getattr(args, option)
        if value is not None and value < 1:
            flag = "--" + option.replace("_", "-")
            raise ConfigError(f"{flag} must be at least 1; got {value}.")
    keys = ("iterations", "batch_size", "loss", "n_critic", "architecture")
    given = {k: getattr(args, k) for k in keys if getattr(args, k)}
    if "loss" in given:
        get_loss(given["loss"])  # an unknown loss fails here, before any training
    architecture = given.pop("architecture", None)
    if architecture is not None:
        allowed = ("dcgan", "resnet") if args.task == "stacked_mnist" else ("mlp",)
        if architecture not in allowed:
            raise ConfigError(
                f"--architecture {architecture!r} does not fit {args.task}: it trains "
                f"{' or '.join(allowed)} (the 2-D mixtures an mlp, Stacked MNIST 28 px images)"
            )
        if args.task == "stacked_mnist":
            given["architecture"] = architecture
    if args.task == "stacked_mnist":
        settings = StackedSettings(**given)
        classify, accuracy = digit_classifier()
        logger.info("digit classifier: %.2f%% held-out accuracy", 100 * accuracy)

        def run(activation: str, seed: int) -> dict:
            return run_stacked_mnist_benchmark(activation, seed, settings, args.threads, classify)
    else:
        settings = MixtureSettings(**given)

        def run(activation: str, seed: int) -> dict:
            return run_mixture_benchmark(args.task, activation, seed, settings, args.threads)

    out = args.out if args.out is not None else Path("runs/bench/mode-collapse") / args.task
    runs_path = out / "runs.jsonl"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanzooError(f"cannot create the output directory {out}: {exc}") from exc
    done = load_records(runs_path)
    records = []
    total = len(activations) * args.seeds
    reused = 0
    for activation in activations:
        for seed in range(args.seeds):
            key = run_key(args.task, activation, seed, settings.as_dict())
            if key in done:
                records.append(done[key])
                reused += 1
                continue
            logger.info(
                "run %d/%d: %s %s seed %d", len(records) + 1, total, args.task, activation, seed
            )
            record = run(activation, seed)
            append_record(runs_path, record)
            records.append(record)
    if reused:
        logger.info("reused %d finished runs from %s", reused, runs_path)
    rows = summarize(records, activations)
    title = (
        f"Mode collapse on {args.task}: {args.seeds} seeds, {settings.iterations} iterations, "
        f"batch {settings.batch_size}; mean ± sample std over seeds"
    )
    write_csv(rows, out / "summary.csv")
    (out / "summary.md").write_text(format_markdown(rows, f"### {title}"), encoding="utf-8")
    print(title)
    print(format_text(rows))
    print(out)
    return 0

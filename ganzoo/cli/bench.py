"""``ganzoo bench mode-collapse``: its options, read into the settings and activations that
:mod:`ganzoo.modecollapse.runner` runs; the summary is printed and written to
``OUT/summary.csv`` and ``OUT/summary.md``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.cli.executor_args import add_executor_arguments, check_at_least, executor_from_args
from ganzoo.cli.leaderboard import add_grid_arguments, quoted_activations, resolve_activations
from ganzoo.data.mixtures import mixture_names
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.losses import get_loss
from ganzoo.modecollapse.runner import (
    STACKED,
    STORE_DIR,
    MixtureSettings,
    StackedSettings,
    bench_task,
    run_bench,
)

DEFAULT_ACTIVATIONS = "psf,leaky_relu,prelu,elu"
BUILTIN_TASKS = ("ring8", "grid25", STACKED)  # and any 2-D mixture dataset a plugin adds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run benchmarks that compare activations",
        description="Benchmarks that compare activations over several seeds.",
    )
    actions = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    defaults, stacked = MixtureSettings(), StackedSettings()
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
    add_grid_arguments(mc, DEFAULT_ACTIVATIONS, 5, "default: runs/bench/mode-collapse/<task>/")
    mc.add_argument(
        "--task",
        default="ring8",
        help=f"one of {', '.join(BUILTIN_TASKS)}, or a plugin's 2-D mixture dataset "
        "(default ring8)",
    )
    mc.add_argument(
        "--iterations",
        type=int,
        help=f"generator updates per run (default {defaults.iterations}; "
        f"{stacked.iterations} for stacked_mnist)",
    )
    mc.add_argument(
        "--batch-size",
        type=int,
        help=f"default {defaults.batch_size} ({stacked.batch_size} for stacked_mnist)",
    )
    mc.add_argument(
        "--architecture",
        help="stacked_mnist only: dcgan (default) or resnet (the SNGAN ResNet at 28 px)",
    )
    mc.add_argument("--loss", help="a registered loss (default bce)")
    mc.add_argument("--n-critic", type=int, help="discriminator updates per generator update")
    add_executor_arguments(mc)
    mc.set_defaults(func=mode_collapse_command)


def _check_task(task: str) -> None:
    tasks = (*BUILTIN_TASKS, *(name for name in mixture_names() if name not in BUILTIN_TASKS))
    if task not in tasks:
        raise GanzooError(f"unknown task {task!r}; choose one of {', '.join(tasks)}.")


def _settings(args: argparse.Namespace) -> MixtureSettings | StackedSettings:
    """The run settings the options ask for; a bad value is one ConfigError."""
    # --jobs is checked by executor_from_args
    check_at_least(args, seeds=1, iterations=1, batch_size=1, n_critic=1)
    keys = ("iterations", "batch_size", "loss", "n_critic", "architecture")
    given = {k: getattr(args, k) for k in keys if getattr(args, k)}
    if "loss" in given:
        get_loss(given["loss"])  # an unknown loss fails here, before any training
    allowed = ("dcgan", "resnet") if args.task == STACKED else ("mlp",)
    if "architecture" in given and given["architecture"] not in allowed:
        raise ConfigError(
            f"--architecture {given['architecture']!r} does not fit {args.task}: it trains "
            f"{' or '.join(allowed)} (the 2-D mixtures an mlp, Stacked MNIST 28 px images)"
        )
    if args.task == STACKED:
        return StackedSettings(**given)
    given.pop("architecture", None)  # mlp, the mixtures' only network, is no setting of theirs
    return MixtureSettings(**given)


def mode_collapse_command(args: argparse.Namespace) -> int:
    from ganzoo.leaderboard.report import format_markdown
    from ganzoo.modecollapse.runner import format_csv, format_text
    from ganzoo.report import formatting

    _check_task(args.task)
    activations = resolve_activations(args.activations, None)
    settings = _settings(args)
    out = args.out if args.out is not None else Path("runs/bench/mode-collapse") / args.task
    executor = executor_from_args(args, out / STORE_DIR)
    task = bench_task(args.task, settings)
    board = run_bench(task, activations, range(args.seeds), out, executor)
    markdown = format_markdown(board, _command(args, activations, settings, out), [])
    texts = {"summary.csv": format_csv(board), "summary.md": markdown}
    formatting.write_texts(out, texts, "summary")
    print(
        f"Mode collapse on {args.task}: {args.seeds} seeds, {settings.iterations} iterations, "
        f"batch {settings.batch_size}; mean ± sample std over seeds"
    )
    print(format_text(board))
    print(out)
    return 0


def _command(args: argparse.Namespace, activations, settings, out: Path) -> str:
    """The command that regenerates this summary (its store reused)."""
    given = [option for option in ("architecture", "loss", "n_critic") if getattr(args, option)]
    extra = "".join(f" --{option.replace('_', '-')} {getattr(args, option)}" for option in given)
    return (
        f"ganzoo bench mode-collapse --task {args.task} --activations "
        f"{quoted_activations(activations)} --seeds {args.seeds} --iterations "
        f"{settings.iterations} --batch-size {settings.batch_size}{extra} --out {out}"
    )

"""``ganzoo train``: train a GAN from a YAML config, or resume a run directory.

Parses the arguments, calls :func:`ganzoo.training.train` and prints what people need: the run
directory last (scripts read it), and a line on stderr when the run did not finish.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ganzoo.config import ExperimentConfig, to_yaml
from ganzoo.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a GAN from a YAML config",
        description="Train a GAN from a YAML config with key=value overrides, e.g. "
        "`ganzoo train configs/dcgan_cifar_psf.yaml train.epochs=5 generator.activation=elu`. "
        "The last line printed is the run directory.",
    )
    parser.add_argument("config", nargs="?", type=Path, help="experiment YAML file")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    parser.add_argument("--out", type=Path, default=Path("runs"), help="root of run directories")
    parser.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="continue a run from its last checkpoint"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate, print the resolved config and exit"
    )
    parser.add_argument(
        "--nproc-per-node",
        type=int,
        default=1,
        metavar="N",
        help="train on N processes of this machine (one per GPU; gloo on the CPU); "
        "train.batch_size is the global batch, split between them. For several machines "
        "start `ganzoo train` under torchrun instead (see the README)",
    )
    parser.set_defaults(func=train_command)


def train_command(args: argparse.Namespace) -> int:
    from ganzoo.training import check_launch, prepare_training, train

    overrides = list(args.overrides)
    config = args.config
    if args.resume is not None and config is not None:
        if "=" in str(config):
            # argparse puts the first override into `config` when --resume is used.
            overrides.insert(0, str(config))
        else:
            raise ConfigError(
                f"--resume {args.resume} continues that run with its own config.yaml, so the "
                f"config file {config} cannot be given beside it: drop it to resume, or start "
                f"a new run with `ganzoo train {config}` (without --resume)"
            )
        config = None
    if args.resume is None and config is None:
        raise ConfigError("give a config file (ganzoo train CONFIG.yaml) or --resume RUN_DIR")
    if args.dry_run:
        plan = prepare_training(config, overrides, resume=args.resume)
        check_launch(plan.config, args.nproc_per_node, plan.source)
        _print_dry_run(plan.config)
        return 0
    result = train(
        config,
        overrides,
        out=args.out,
        resume=args.resume,
        nproc_per_node=args.nproc_per_node,
        log_level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
    )
    if result.status == "interrupted":
        print(f"ganzoo train: {result.detail}", file=sys.stderr, flush=True)
        return result.exit_code
    if result.status == "failed":
        print(f"ganzoo train: error: {result.detail}", file=sys.stderr, flush=True)
        return result.exit_code or 2
    if result.status == "nothing_to_do":
        print(f"ganzoo train: {result.detail}", file=sys.stderr, flush=True)
    print(result.run_dir, flush=True)
    return 0


def _print_dry_run(config: ExperimentConfig) -> None:
    """The resolved config, then one comment line per network: what the config builds."""
    from ganzoo.engine.factories import network_summaries

    print(to_yaml(config), end="")
    for line in network_summaries(config):
        print(f"# {line}")

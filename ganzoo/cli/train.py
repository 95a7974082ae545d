"""``ganzoo train``: train a GAN from a YAML config, or resume a run directory."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ganzoo.config import ExperimentConfig, config_from_dict, load_config, to_yaml, validate
from ganzoo.errors import ConfigError
from ganzoo.runs import (
    CONFIG_FILE,
    atomic_write_text,
    create_run_dir,
    load_latest_checkpoint,
    read_run_config,
    require_run_dir,
)

logger = logging.getLogger(__name__)

# Keys that may change when resuming: how long to train and how to log. Everything else would
# make the resumed run a different experiment.
RESUMABLE_OVERRIDES = (
    "train.iterations",
    "train.epochs",
    "train.progress",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "eval.",
)


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
    parser.set_defaults(func=train_command)


def train_command(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.resume is not None:
        if args.config is not None:
            # argparse puts the first override into `config` when --resume is used.
            overrides.insert(0, str(args.config))
        return _resume(args.resume, overrides, dry_run=args.dry_run)
    if args.config is None:
        raise ConfigError("give a config file (ganzoo train CONFIG.yaml) or --resume RUN_DIR")
    config = load_config(args.config, overrides)
    if args.dry_run:
        print(to_yaml(config), end="")
        return 0
    run_dir = create_run_dir(args.out, config.name)
    atomic_write_text(run_dir / CONFIG_FILE, to_yaml(config))
    _train(config, run_dir, checkpoint=None)
    print(run_dir)
    return 0


def _resume(run_dir: Path, overrides: list[str], dry_run: bool) -> int:
    run_dir = require_run_dir(run_dir)
    for item in overrides:
        key = item.split("=", 1)[0]
        if not any(
            key == k or (k.endswith(".") and key.startswith(k)) for k in RESUMABLE_OVERRIDES
        ):
            raise ConfigError(
                f"cannot change {key!r} when resuming: only {', '.join(RESUMABLE_OVERRIDES)} may "
                f"change. Start a new run for a different experiment."
            )
    source = str(run_dir / CONFIG_FILE)
    base = read_run_config(run_dir)
    from omegaconf import OmegaConf

    merged = OmegaConf.to_container(
        OmegaConf.merge(OmegaConf.create(base), OmegaConf.from_dotlist(overrides))
    )
    config = config_from_dict(merged, source)
    validate(config, source)
    if dry_run:
        print(to_yaml(config), end="")
        return 0
    path, checkpoint = load_latest_checkpoint(run_dir)
    logger.info("resuming %s from %s", run_dir, path.name)
    if overrides:
        atomic_write_text(run_dir / CONFIG_FILE, to_yaml(config))
    _train(config, run_dir, checkpoint=checkpoint)
    print(run_dir)
    return 0


def _train(config: ExperimentConfig, run_dir: Path, checkpoint: dict | None) -> None:
    from ganzoo.data import build_dataset
    from ganzoo.engine.trainer import create_training, restore

    d = config.data
    dataset = build_dataset(
        d.name,
        d.root,
        image_size=d.image_size,
        channels=d.channels,
        classes=d.classes,
        download=d.download,
        train=True,
        limit=d.limit,
    )
    training = create_training(config, run_dir, dataset)
    if checkpoint is not None:
        restore(training, checkpoint)
    training.run()

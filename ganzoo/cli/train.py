"""``ganzoo train``: train a GAN from a YAML config, or resume a run directory."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ganzoo.config import ExperimentConfig, config_from_dict, load_config, to_yaml, validate
from ganzoo.errors import CheckpointError, ConfigError, GanzooError
from ganzoo.runs import (
    CONFIG_FILE,
    RESUMABLE_OVERRIDES,
    atomic_write_text,
    create_run_dir,
    list_checkpoints,
    load_checkpoint,
    load_latest_checkpoint,
    read_run_config,
    remove_partial_checkpoints,
    remove_unused_run_dir,
    require_run_dir,
)

logger = logging.getLogger(__name__)


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


@dataclass
class Job:
    """What every training process needs: a new run (``out``) or a resumed one (``run_dir``)."""

    config: ExperimentConfig
    out: Path | None = None
    run_dir: Path | None = None
    checkpoint_path: Path | None = None
    checkpoint: dict[str, Any] | None = None  # already loaded (single process only)
    log_level: int = logging.INFO


def train_command(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.resume is not None:
        if args.config is not None:
            # argparse puts the first override into `config` when --resume is used.
            overrides.insert(0, str(args.config))
        return _resume(args.resume, overrides, args)
    if args.config is None:
        raise ConfigError("give a config file (ganzoo train CONFIG.yaml) or --resume RUN_DIR")
    config = load_config(args.config, overrides)
    world_size = check_launch(config, args, str(args.config))
    if args.dry_run:
        _print_dry_run(config)
        return 0
    return _launch(Job(config, out=args.out), args, world_size)


def _print_dry_run(config: ExperimentConfig) -> None:
    """The resolved config, then one comment line per network: what the config builds."""
    from ganzoo.engine.factories import network_summaries

    print(to_yaml(config), end="")
    for line in network_summaries(config):
        print(f"# {line}")


def check_launch(config: ExperimentConfig, args: argparse.Namespace, source: str) -> int:
    """What the launch would refuse, checked before any work (and by --dry-run): the process
    count, the device, the global batch split over the processes and the evaluation suite.
    Returns the number of processes."""
    from ganzoo.engine import distributed
    from ganzoo.engine.trainer import check_device, per_process_batch_size

    if args.nproc_per_node < 1:
        raise ConfigError(f"--nproc-per-node must be 1 or more, got {args.nproc_per_node}")
    device = check_device(config)
    world_size = distributed.world_size_hint(args.nproc_per_node)
    per_process_batch_size(config, world_size)
    if device.type == "cuda" and not distributed.launched_by_torchrun():
        gpus = torch_cuda_count()
        if args.nproc_per_node > gpus:
            raise ConfigError(
                f"--nproc-per-node {args.nproc_per_node} needs one GPU per process but {gpus} "
                f"GPU(s) are visible; use --nproc-per-node {gpus}, or train.device=cpu for "
                f"CPU processes"
            )
    from evaluation import SuiteError, load_suite

    try:
        load_suite(config.eval.suite)
    except SuiteError as exc:
        raise ConfigError(f"config key 'eval.suite' in {source}: {exc}") from None
    if args.dry_run:  # the real run reads its data first; a dry run checks it the same way
        from ganzoo.engine.data_check import check_training_data

        check_training_data(config, world_size)
    return world_size


def _launch(job: Job, args: argparse.Namespace, world_size: int) -> int:
    """Train on one process or several (``check_launch`` has passed); print the run directory."""
    from ganzoo.engine import distributed
    from ganzoo.engine.signals import RunInterrupted

    job.log_level = logging.DEBUG if getattr(args, "verbose", False) else logging.INFO
    if world_size == 1:
        try:
            _worker(0, job)
        except RunInterrupted as exc:
            print(f"ganzoo train: {exc}", file=sys.stderr)
            return exc.exit_code
        return 0
    job.checkpoint = None  # each process loads it itself
    from torch.multiprocessing import ProcessExitedException

    try:
        from ganzoo.engine.trainer import check_device

        backend = distributed.backend_for(check_device(job.config))
        distributed.launch(_spawned, args.nproc_per_node, backend, job)
    except ProcessExitedException as exc:
        if exc.exit_code in (2, 130, 143):
            return exc.exit_code  # rank 0 has printed why
        print(
            f"ganzoo train: error: a training process died ({exc}); the checkpoints written "
            f"so far are in the run directory: continue with ganzoo train --resume RUN_DIR",
            file=sys.stderr,
        )
        return exc.exit_code if exc.exit_code > 0 else 1
    return 0


def torch_cuda_count() -> int:
    import torch

    return torch.cuda.device_count()


def _spawned(local_rank: int, job: Job) -> None:
    """Entry point of a spawned process: a :class:`GanzooError` is printed once (rank 0) and
    becomes the exit status, as ``ganzoo train`` on one process does."""
    import ignite.distributed as idist

    from ganzoo.engine.signals import RunInterrupted

    rank = idist.get_rank()
    logging.basicConfig(
        level=job.log_level if rank == 0 else logging.WARNING,
        format=f"%(levelname)s [rank {rank}] %(name)s: %(message)s",
    )
    if rank != 0:  # under torchrun `main` has configured logging already
        logging.getLogger().setLevel(logging.WARNING)
    try:
        _worker(local_rank, job)
    except GanzooError as exc:
        if rank == 0:
            prefix = "" if isinstance(exc, RunInterrupted) else "error: "
            print(f"ganzoo train: {prefix}{exc}", file=sys.stderr, flush=True)
        if isinstance(exc, RunInterrupted):
            idist.barrier()  # rank 0's checkpoint is written before anyone exits
        sys.stdout.flush()
        sys.exit(getattr(exc, "exit_code", 2))
    if idist.get_world_size() > 1:
        _end_finished_rank()


def _end_finished_rank() -> NoReturn:
    """End one process of a finished distributed run once every rank is past its last
    collective: flush what it printed and logged, then exit without interpreter teardown.

    torch's gloo backend can abort a process while it tears down ("terminate called without an
    active exception", SIGABRT), which turned about one finished two-process run in twenty into
    a failed one here. Everything the run writes is closed by then (checkpoints, metrics.jsonl,
    TensorBoard), so skipping the teardown loses nothing.
    """
    import ignite.distributed as idist

    idist.barrier()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _worker(local_rank: int, job: Job) -> None:
    """Train ``job`` in this process (one rank of several, or the only one)."""
    import ignite.distributed as idist

    from ganzoo.engine.signals import RunInterrupted
    from ganzoo.engine.trainer import create_training, restore

    dataset = _build_dataset(job.config)  # before creating anything on disk
    rank = idist.get_rank()
    run_dir = job.run_dir
    if run_dir is None:
        problem = None
        if rank == 0:
            try:
                run_dir = create_run_dir(job.out, job.config.name)
                atomic_write_text(run_dir / CONFIG_FILE, to_yaml(job.config))
            except (CheckpointError, OSError) as exc:
                problem = exc
        shared = idist.broadcast(str(run_dir or "") if rank == 0 else None, 0, safe_mode=True)
        if problem is not None:
            raise CheckpointError(str(problem)) from None
        if not shared:
            raise CheckpointError("rank 0 could not create the run directory; see its message")
        run_dir = Path(shared)
    if job.run_dir is not None and rank == 0:
        for partial in remove_partial_checkpoints(run_dir):
            logger.warning("removed %s, a checkpoint whose writing was cut off", partial.name)
    checkpoint = job.checkpoint
    if checkpoint is None and job.checkpoint_path is not None:
        checkpoint = load_checkpoint(job.checkpoint_path)
    training = None
    try:
        training = create_training(job.config, run_dir, dataset)
        if checkpoint is not None:
            restore(training, checkpoint)
        training.run()
    except BaseException as exc:
        if job.run_dir is None and rank == 0 and not isinstance(exc, RunInterrupted):
            _clean_up_failed_start(run_dir, training)
        raise
    if rank == 0:
        print(run_dir, flush=True)


def _clean_up_failed_start(run_dir: Path, training: Any) -> None:
    """A new run that failed before completing an iteration (bad weights, an unreadable first
    image) leaves no directory behind; one that failed later without a checkpoint is named as
    not resumable."""
    started = training is not None and training.engine.state.iteration > 0
    if not started and remove_unused_run_dir(run_dir):
        logger.info("removed %s: the run failed before its first iteration", run_dir)
    elif not list_checkpoints(run_dir):
        logger.warning(
            "%s holds no checkpoint (the run failed before its first one): it cannot be "
            "resumed; its logs are kept, delete the directory when done with them",
            run_dir,
        )


def _resume(run_dir: Path, overrides: list[str], args: argparse.Namespace) -> int:
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
    validate(config, source, overrides)
    world_size = check_launch(config, args, source)
    if args.dry_run:
        _print_dry_run(config)
        return 0
    path, checkpoint = load_latest_checkpoint(run_dir)
    logger.info("resuming %s from %s", run_dir, path.name)
    if overrides:
        atomic_write_text(run_dir / CONFIG_FILE, to_yaml(config))
    job = Job(config, run_dir=run_dir, checkpoint_path=path, checkpoint=checkpoint)
    return _launch(job, args, world_size)


def _build_dataset(config: ExperimentConfig) -> Any:
    from ganzoo.data import build_dataset

    d = config.data
    return build_dataset(
        d.name,
        d.root,
        image_size=d.image_size,
        channels=d.channels,
        classes=d.classes,
        download=d.download,
        train=True,
        limit=d.limit,
    )

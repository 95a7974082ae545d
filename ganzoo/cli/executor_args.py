"""The command-line options that choose where an experiment's runs execute (``--executor``,
Slurm's partition, time and GPUs, cells per job), shared by the experiment commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.errors import ConfigError
from ganzoo.experiments.executors import Executor, make_executor

SUBMITIT_DIR = "submitit"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the runs execute")
    group.add_argument(
        "--executor",
        choices=("local", "slurm", "submitit-local"),
        default="local",
        help="local: --jobs worker processes here (default); slurm: one Slurm job per "
        "--cells-per-job cells through submitit (pip install 'ganzoo[slurm]'); "
        "submitit-local: the same jobs as local processes, to try a setup",
    )
    group.add_argument("--partition", help="Slurm partition (--executor slurm)")
    group.add_argument(
        "--time", type=int, default=60, help="minutes a Slurm job may run (default 60)"
    )
    group.add_argument("--gpus-per-job", type=int, default=0, help="GPUs per Slurm job")
    group.add_argument(
        "--cells-per-job", type=int, default=1, help="cells a Slurm job runs (default 1)"
    )


def check_at_least(args: argparse.Namespace, **least: int) -> None:
    """Refuse an option below its least value (``--seeds 0``) in one line; unset ones pass."""
    for option, minimum in least.items():
        value = getattr(args, option)
        if value is not None and value < minimum:
            flag = "--" + option.replace("_", "-")
            raise ConfigError(f"{flag} must be at least {minimum}; got {value}")


def executor_from_args(args: argparse.Namespace, store_root: Path) -> Executor:
    """The executor the options (and the command's ``--jobs``) ask for, checked."""
    check_at_least(args, jobs=1, time=1, gpus_per_job=0, cells_per_job=1)
    return make_executor(
        args.executor,
        jobs=args.jobs,
        folder=Path(store_root) / SUBMITIT_DIR,
        partition=args.partition,
        time_min=args.time,
        gpus_per_job=args.gpus_per_job,
        chunk=args.cells_per_job,
    )

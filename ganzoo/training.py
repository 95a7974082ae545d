"""The library's training entry point: ``ganzoo.train(config, overrides) -> RunResult``.

``train`` resolves the config (an :class:`ExperimentConfig`, a mapping or a YAML path, with
dotted overrides) or a run directory to resume, checks what the launch would refuse, and runs
:func:`ganzoo.engine.worker.run_job` on one process, on ``nproc_per_node`` spawned processes,
or in each process torchrun started. ``ganzoo train`` and the experiment runners call it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.config import ExperimentConfig, load_config, to_dict, validate
from ganzoo.engine.result import NOTHING_TO_DO, RunResult, result_from
from ganzoo.engine.resume import ResumePlan, apply_overrides, plan_resume
from ganzoo.engine.worker import Job
from ganzoo.errors import ConfigError, GanzooError

logger = logging.getLogger(__name__)

ConfigLike = ExperimentConfig | Mapping[str, Any] | str | os.PathLike


@dataclass
class TrainingPlan:
    """A resolved config, where it came from, and the run it continues (if any)."""

    config: ExperimentConfig
    source: str
    resume: ResumePlan | None = None


def prepare_training(
    config: ConfigLike | None,
    overrides: Sequence[str] = (),
    *,
    resume: str | Path | None = None,
    build: bool = True,
) -> TrainingPlan:
    """The config a run would train, checked: ``config`` with ``overrides`` for a new run, or
    the run directory ``resume`` with the overrides a resume allows. ``build``: check the
    networks and loss by building them on ``meta`` (False where the run builds them next)."""
    overrides = [str(item) for item in overrides]
    if resume is not None:
        if config is not None:
            raise ConfigError(
                f"a resumed run keeps its own config ({Path(resume) / 'config.yaml'}); give "
                f"either a config or a run directory to resume, not both"
            )
        plan = plan_resume(resume, overrides, build=build)
        return TrainingPlan(plan.config, plan.source, plan)
    if config is None:
        raise ConfigError("give a config (a YAML file, a mapping or an ExperimentConfig)")
    if isinstance(config, str | os.PathLike):
        return TrainingPlan(load_config(config, overrides, build=build), str(config))
    if isinstance(config, ExperimentConfig):
        data, source = to_dict(config), "the ExperimentConfig given"
    elif isinstance(config, Mapping):
        data, source = dict(config), "the config mapping given"
    else:
        raise ConfigError(
            f"config must be an ExperimentConfig, a mapping or a YAML path, not "
            f"{type(config).__name__}"
        )
    resolved = apply_overrides(data, overrides, source)
    if resolved.name is None:
        resolved.name = "experiment"
    validate(resolved, source, overrides, build=build)
    return TrainingPlan(resolved, source)


def check_launch(config: ExperimentConfig, nproc_per_node: int, source: str) -> tuple[int, Any]:
    """What the launch would refuse, checked before any work: the process count, the device,
    the global batch split over the processes and the evaluation suite. Returns the number of
    processes and the parsed suite."""
    from evaluation import SuiteError, load_suite
    from ganzoo.engine import distributed
    from ganzoo.engine.factories import check_device, per_process_batch_size

    if nproc_per_node < 1:
        raise ConfigError(f"--nproc-per-node must be 1 or more, got {nproc_per_node}")
    device = check_device(config)
    world_size = distributed.world_size_hint(nproc_per_node)
    per_process_batch_size(config, world_size)
    if device.type == "cuda" and not distributed.launched_by_torchrun():
        gpus = cuda_device_count()
        if nproc_per_node > gpus:
            raise ConfigError(
                f"--nproc-per-node {nproc_per_node} needs one GPU per process but {gpus} "
                f"GPU(s) are visible; use --nproc-per-node {gpus}, or train.device=cpu for "
                f"CPU processes"
            )
    try:
        suite = load_suite(config.eval.suite)
    except SuiteError as exc:
        raise ConfigError(f"config key 'eval.suite' in {source}: {exc}") from None
    return world_size, suite


def cuda_device_count() -> int:
    import torch

    return torch.cuda.device_count()


def train(
    config: ConfigLike | None,
    overrides: Sequence[str] = (),
    *,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    nproc_per_node: int | None = None,
    progress: bool | None = None,
    log_level: int | None = None,
    backend: str | None = None,
) -> RunResult:
    """Train one run and say how it ended.

    ``config``: an :class:`ExperimentConfig`, a mapping of its keys, or a YAML path (None with
    ``resume``); ``overrides``: dotted ``key=value`` strings. ``out``: the root of new run
    directories (default ``runs``). ``resume``: a run directory to continue from its newest
    checkpoint (only the length, logging and evaluation keys may change). ``nproc_per_node``:
    processes on this machine (``train.batch_size`` is split between them); under torchrun
    the processes are torchrun's. ``progress``: show the progress bar (default: the config's
    ``train.progress``). ``backend``: initialise torch.distributed with it even for one
    process (a check of the backend). Under torchrun, ranks other than 0 end their process
    when the run ends.

    Bad input raises a :class:`ganzoo.errors.GanzooError` before anything is written. A run
    that started returns its :class:`RunResult`: ``finished``, ``interrupted`` (a signal; it
    resumes), ``failed`` (a NaN loss or a failed write) or ``nothing_to_do``.
    """
    # The networks and loss are checked where the run builds them, once (run_job), not on meta.
    plan = prepare_training(config, overrides, resume=resume, build=False)
    nproc = 1 if nproc_per_node is None else nproc_per_node
    world_size, suite = check_launch(plan.config, nproc, plan.source)
    level = logging.INFO if log_level is None else log_level  # what spawned processes log
    job = Job(plan.config, out=Path("runs" if out is None else out), log_level=level)
    job.progress, job.suite = progress, suite
    job.source, job.overrides = plan.source, tuple(str(item) for item in overrides)
    if plan.resume is not None:
        resumed = plan.resume
        if resumed.nothing_to_do:
            detail = (
                f"{resumed.run_dir} already reached iteration {resumed.trained} of "
                f"{resumed.end}; nothing to do (give a longer train.iterations or train.epochs "
                f"to train on)"
            )
            logger.info(detail)
            return result_from(resumed.run_dir, NOTHING_TO_DO, resumed.trained, detail)
        logger.info("resuming %s from %s", resumed.run_dir, resumed.checkpoint_path.name)
        resumed.record_overrides()
        job.out, job.run_dir = None, resumed.run_dir
        job.checkpoint_path, job.checkpoint = resumed.checkpoint_path, resumed.checkpoint
    return _launch(job, nproc, world_size, backend)


def _launch(job: Job, nproc_per_node: int, world_size: int, backend: str | None) -> RunResult:
    """Run ``job`` on one process or several (``check_launch`` has passed)."""
    from ganzoo.engine import distributed
    from ganzoo.engine.factories import check_device
    from ganzoo.engine.worker import run_job, run_under_torchrun

    forced = backend is not None
    backend = backend or distributed.backend_for(check_device(job.config))
    if distributed.launched_by_torchrun() or (forced and world_size == 1):
        import ignite.distributed as idist

        results: list[RunResult] = []
        with idist.Parallel(backend=backend) as parallel:
            parallel.run(run_under_torchrun, job, results)
        return results[0]
    if world_size == 1:
        return run_job(0, job)
    return _spawn(job, nproc_per_node, backend)


def _spawn(job: Job, nproc_per_node: int, backend: str) -> RunResult:
    """``nproc_per_node`` spawned processes; rank 0 hands its result back through a file."""
    from torch.multiprocessing import ProcessExitedException

    from ganzoo.engine import distributed
    from ganzoo.engine.worker import read_spawned_result, run_spawned

    job.checkpoint = None  # each process loads it itself
    with tempfile.TemporaryDirectory(prefix="ganzoo-run-") as scratch:
        job.result_file = Path(scratch) / "result.json"
        try:
            distributed.launch(run_spawned, nproc_per_node, backend, job)
        except ProcessExitedException as exc:
            result = read_spawned_result(job.result_file)
            if result is not None:
                return result
            raise GanzooError(
                f"a training process died ({exc}); the checkpoints written so far are in the "
                f"run directory: continue with ganzoo train --resume RUN_DIR"
            ) from None
        result = read_spawned_result(job.result_file)
    if result is None:
        raise GanzooError("the training processes ended without a result from rank 0")
    return result

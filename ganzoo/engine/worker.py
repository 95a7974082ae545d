"""One training process: build the data, create (or reopen) the run directory, train, clean up.

:func:`run_job` is what every process of a run executes, the only one or one rank of several
(ignite's ``training(local_rank, config)``). Rank 0 creates a new run's directory and shares its
path; a new run that fails before its first iteration leaves no directory behind. Processes
spawned for ``nproc_per_node`` > 1 enter through :func:`run_spawned`, which hands rank 0's
:class:`RunResult` (or its error) back to the parent through a small JSON file.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ganzoo.config import ExperimentConfig, to_yaml
from ganzoo.engine.result import FAILED, FINISHED, INTERRUPTED, RunResult, result_from
from ganzoo.engine.run_data import build_run_dataset
from ganzoo.errors import CheckpointError, GanzooError
from ganzoo.runs import (
    CONFIG_FILE,
    atomic_write_text,
    create_run_dir,
    list_checkpoints,
    load_checkpoint,
    remove_partial_checkpoints,
    remove_unused_run_dir,
)

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """What every training process needs: a new run (``out``) or a resumed one (``run_dir``)."""

    config: ExperimentConfig
    out: Path | None = None
    run_dir: Path | None = None
    checkpoint_path: Path | None = None
    checkpoint: dict[str, Any] | None = None  # already loaded (single process only)
    log_level: int = logging.INFO
    progress: bool | None = None  # None: the config's train.progress
    suite: Any = None  # the evaluation suite, parsed once by the launcher
    result_file: Path | None = None  # where a spawned rank 0 leaves its result
    source: str = "the config"  # where the config came from, and its overrides: what a bad
    overrides: tuple[str, ...] = ()  # value's message names when the networks are built
    stopped_together: bool = False  # set when every rank stopped at once (a NaN loss)


def run_job(local_rank: int, job: Job) -> RunResult:
    """Train ``job`` in this process (one rank of several, or the only one).

    Problems before training starts (data, the run directory, the checkpoint) raise a
    :class:`GanzooError`; a run that started returns its :class:`RunResult`, ``interrupted``
    or ``failed`` included.
    """
    import ignite.distributed as idist

    from ganzoo.engine.factories import build_run_models
    from ganzoo.engine.signals import RunInterrupted
    from ganzoo.engine.trainer import create_training, restore

    # Each once, before creating anything on disk; the networks and loss first, so a bad
    # config is refused before the data are read.
    models = build_run_models(job.config, job.source, job.overrides)
    dataset = build_run_dataset(job.config)
    rank = idist.get_rank()
    run_dir = job.run_dir if job.run_dir is not None else _new_run_dir(job, rank)
    if job.run_dir is not None and rank == 0:
        for partial in remove_partial_checkpoints(run_dir):
            logger.warning("removed %s, a checkpoint whose writing was cut off", partial.name)
    checkpoint = job.checkpoint
    if checkpoint is None and job.checkpoint_path is not None:
        checkpoint = load_checkpoint(job.checkpoint_path)
    training = None
    try:
        training = create_training(
            job.config, run_dir, dataset, progress=job.progress, suite=job.suite, models=models
        )
        if checkpoint is not None:
            restore(training, checkpoint)
        started = training.engine.state.iteration
        try:
            training.run()
        except RunInterrupted as exc:
            iteration = training.engine.state.iteration
            return result_from(run_dir, INTERRUPTED, iteration, str(exc), exc.exit_code)
        except GanzooError as exc:
            if training.engine.state.iteration == started and training.status.healthy:
                raise  # it failed before training anything: a set-up problem
            if job.run_dir is None and rank == 0:
                _clean_up_failed_start(run_dir, training)
            iteration = training.engine.state.iteration
            if training.status.nan_iteration is not None:  # all-reduced: every rank stops
                iteration = training.status.nan_iteration - 1
                job.stopped_together = True
            return result_from(run_dir, FAILED, iteration, str(exc), 2)
    except BaseException as exc:
        if job.run_dir is None and rank == 0 and not isinstance(exc, RunInterrupted):
            _clean_up_failed_start(run_dir, training)
        raise
    return result_from(run_dir, FINISHED, training.engine.state.iteration)


def _new_run_dir(job: Job, rank: int) -> Path:
    """Rank 0 creates the run directory and writes config.yaml; every rank gets its path."""
    import ignite.distributed as idist

    run_dir = None
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
    return Path(shared)


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


def run_spawned(local_rank: int, job: Job) -> None:
    """Entry point of a process spawned for a distributed run: rank 0 leaves its result (or
    its error message) in ``job.result_file`` for the parent; every rank exits with the run's
    status (0, 2 for an error or a failure, 128 + signal for an interrupt)."""
    import ignite.distributed as idist

    rank = idist.get_rank()
    _configure_logging(rank, job.log_level)
    try:
        result = run_job(local_rank, job)
    except GanzooError as exc:
        if rank == 0:
            _leave(job, {"error": str(exc)})
        sys.stdout.flush()
        sys.exit(2)
    if rank == 0:
        _leave(job, {"result": result.to_json()})
    if result.status == FINISHED:
        end_finished_rank(0)
    # Rank 0's checkpoint and result are written before anyone exits; but a failure that
    # stopped one rank alone (rank 0's full disk) leaves no barrier to wait in.
    if result.status == INTERRUPTED or job.stopped_together:
        idist.barrier()
    sys.stdout.flush()
    sys.exit(result.exit_code)


def run_under_torchrun(local_rank: int, job: Job, results: list[RunResult]) -> None:
    """Entry point of each process torchrun started: rank 0 appends its result to ``results``
    and returns to its caller; the other ranks end once the run has (see
    :func:`end_finished_rank`)."""
    import ignite.distributed as idist

    rank = idist.get_rank()
    if rank != 0:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        result = run_job(local_rank, job)
    except GanzooError:
        if rank == 0:
            raise
        sys.exit(2)  # rank 0 reports it
    if result.status != FAILED or job.stopped_together:  # not a failure of one rank alone
        idist.barrier()  # every rank is past its last collective (and rank 0's checkpoint written)
    if rank != 0:
        if result.status == FINISHED:
            end_finished_rank(0, barrier=False)
        sys.exit(result.exit_code)
    results.append(result)


def read_spawned_result(path: Path) -> RunResult | None:
    """What rank 0 left in ``path``: its result, or its error raised again (None when it left
    nothing, e.g. it was killed)."""
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if "error" in data:
        raise GanzooError(data["error"])
    return RunResult.from_json(data["result"])


def _leave(job: Job, data: dict[str, Any]) -> None:
    import json

    if job.result_file is not None:
        atomic_write_text(job.result_file, json.dumps(data))


def _configure_logging(rank: int, level: int) -> None:
    logging.basicConfig(
        level=level if rank == 0 else logging.WARNING,
        format=f"%(levelname)s [rank {rank}] %(name)s: %(message)s",
    )
    if rank != 0:
        logging.getLogger().setLevel(logging.WARNING)


def end_finished_rank(exit_code: int = 0, barrier: bool = True) -> NoReturn:
    """End one process of a finished distributed run once every rank is past its last
    collective: flush what it printed and logged, then exit without interpreter teardown.

    torch's gloo backend can abort a process while it tears down ("terminate called without an
    active exception", SIGABRT), which turned about one finished two-process run in twenty into
    a failed one here. Everything the run writes is closed by then (checkpoints, metrics.jsonl,
    TensorBoard), so skipping the teardown loses nothing.
    """
    import ignite.distributed as idist

    if barrier:
        idist.barrier()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)

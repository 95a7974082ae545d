"""Where an experiment's runs execute: here, in local worker processes, or as Slurm jobs
through submitit. Each executor yields ``(index, result)`` as calls finish, in any order, or a
:class:`Lost` for a call it lost itself; an interrupt stops its workers or cancels its jobs.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ganzoo.errors import ConfigError

logger = logging.getLogger(__name__)

Results = Iterator[tuple[int, Any]]
STOP_GRACE_S = 30.0  # how long stopped workers get to write their checkpoints


@dataclass(frozen=True)
class Lost:
    """A call the executor could not finish; ``reason`` says why, for people."""

    reason: str


class Executor(Protocol):
    def map_unordered(self, function: Callable[..., Any], calls: Sequence[tuple]) -> Results: ...


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt (as Ctrl-C does), so the cleanup
    that stops workers runs; outside the main thread this does nothing."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def init_worker() -> None:
    """Each worker computes on one thread (the jobs share the cores) and, on Linux, receives
    SIGTERM when its parent dies, so a killed experiment leaves no orphaned worker."""
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    import torch

    torch.set_num_threads(1)


class InlineExecutor:
    """Runs each call in this process, one after the other (``--jobs 1``)."""

    def map_unordered(self, function: Callable[..., Any], calls: Sequence[tuple]) -> Results:
        for index, args in enumerate(calls):
            yield index, function(*args)


@dataclass
class LocalExecutor:
    """Keeps ``jobs`` spawned worker processes busy. A worker that dies (killed, out of memory)
    breaks the pool: its calls are tried once more, each alone, then yielded as Lost."""

    jobs: int

    def map_unordered(self, function: Callable[..., Any], calls: Sequence[tuple]) -> Results:
        context = multiprocessing.get_context("spawn")  # no fork of a process with torch threads
        queue, deaths = list(range(len(calls))), Counter[int]()
        while queue:
            pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=init_worker)
            running: dict[Future, int] = {}
            broken: list[int] = []  # the calls of a pool a dying worker broke
            try:
                with sigterm_as_interrupt():
                    while (queue or running) and not broken:
                        while queue and len(running) < self.jobs:
                            # A call that broke a pool once runs alone, so a second death is
                            # its own, not that of a call beside it.
                            if running and any(deaths[i] for i in [queue[0], *running.values()]):
                                break
                            index = queue.pop(0)
                            running[pool.submit(function, *calls[index])] = index
                        finished, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in finished:
                            index = running.pop(future)
                            if isinstance(future.exception(), BrokenProcessPool):
                                broken.append(index)
                            else:
                                yield index, future.result()
                    broken.extend(running.values())
            except BaseException:
                stop_workers(pool)
                raise
            pool.shutdown(wait=True)
            for index in broken:
                deaths[index] += 1
                if deaths[index] >= 2:
                    yield index, Lost("the worker process died twice")
                else:
                    queue.insert(0, index)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM each worker of ``pool`` (a training checkpoints), then SIGKILL after STOP_GRACE_S."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(5)
    pool.shutdown(wait=False, cancel_futures=True)


def _run_chunk(function: Callable[..., Any], calls: Sequence[tuple]) -> list[Any]:
    """One Slurm job's work: the calls of its chunk, one after the other."""
    init_worker()
    return [function(*args) for args in calls]


@dataclass
class SubmititExecutor:
    """One submitit job per ``chunk`` calls, on Slurm (``cluster="slurm"``) or as local
    processes (``cluster="local"``). Job logs and pickles go to ``folder``."""

    folder: Path
    cluster: str = "slurm"
    partition: str | None = None
    time_min: int = 60
    gpus_per_job: int = 0
    chunk: int = 1
    poll_s: float = 1.0

    def executor(self) -> Any:
        try:
            import submitit
        except ImportError:
            raise ConfigError(
                "--executor slurm needs submitit: pip install 'ganzoo[slurm]' (or submitit)"
            ) from None
        executor = submitit.AutoExecutor(folder=str(self.folder), cluster=self.cluster)
        executor.update_parameters(  # submitit drops None values; slurm_* only on Slurm
            timeout_min=self.time_min,
            cpus_per_task=1,  # a run computes on one thread (init_worker)
            gpus_per_node=self.gpus_per_job or None,
            slurm_partition=self.partition,
            name="ganzoo",
        )
        return executor

    def map_unordered(self, function: Callable[..., Any], calls: Sequence[tuple]) -> Results:
        executor = self.executor()
        from submitit.helpers import as_completed  # (importable: executor() checked)

        size = max(1, self.chunk)
        chunks = [list(range(i, min(i + size, len(calls)))) for i in range(0, len(calls), size)]
        jobs = {
            executor.submit(_run_chunk, function, [calls[i] for i in chunk]): chunk
            for chunk in chunks
        }
        logger.info("submitted %d job(s) to %s", len(jobs), self.cluster)
        try:
            with sigterm_as_interrupt():
                for job in as_completed(list(jobs), poll_frequency=self.poll_s):
                    chunk = jobs.pop(job)
                    try:
                        results = job.result()
                    except Exception as exc:  # a failed or timed-out job loses its chunk
                        reason = f"the {self.cluster} job {job.job_id} failed: {exc}"
                        results = [Lost(reason.splitlines()[0])] * len(chunk)
                    yield from zip(chunk, results)
        except BaseException:
            for job in jobs:
                with contextlib.suppress(Exception):
                    job.cancel(check=False)
            raise


def make_executor(name: str, jobs: int = 1, folder: Path | None = None, **options: Any) -> Executor:
    """The executor a command line asks for: ``local`` (``jobs`` processes), ``slurm`` or
    ``submitit-local`` (submitit jobs, files in ``folder``, ``options`` of SubmititExecutor)."""
    if name == "local":
        return InlineExecutor() if jobs <= 1 else LocalExecutor(jobs)
    if name in ("slurm", "submitit-local"):
        cluster = "slurm" if name == "slurm" else "local"
        return SubmititExecutor(Path(folder or "submitit"), cluster, **options)
    raise ConfigError(f"unknown executor {name!r}; choose local, slurm or submitit-local")

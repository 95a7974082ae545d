"""Running the leaderboard's cells: the ones the store lacks, one thread each, N at a time.

A cell that fails (an exception inside a plugin, a NaN score, a training run that stops) is
stored as a failed cell with its error; it never stops the others. Ctrl-C stops the run: the
cells in flight are not stored (their training runs keep their checkpoints), and running the
same command again resumes with what is missing.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.leaderboard.store import ResultStore
from ganzoo.leaderboard.tasks import Cell, Task

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"


@dataclass
class RunSummary:
    """What a leaderboard run did: cells trained now, reused from the store, and failed."""

    trained: int = 0
    reused: int = 0
    failed: int = 0


def check_curve(task: Task, curve: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a returned curve cannot be ranked (a missing eval point, a non-finite ranking
    metric), or None when it is fine."""
    by_iteration = {int(point["iteration"]): point for point in curve}
    for iteration in task.eval_points:
        point = by_iteration.get(iteration)
        if point is None:
            return f"the run returned no scores at iteration {iteration}"
        value = point.get(task.primary.name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            return f"{task.primary.name} is {value!r} at iteration {iteration}"
    return None


def execute_cell(task: Task, cell: Cell, work_dir: Path) -> dict[str, Any]:
    """Run one cell and return its record: status, curve at the eval points, final metrics,
    seconds, and the error for a failed cell. Exceptions become failed records; only
    KeyboardInterrupt (and other BaseExceptions) escape."""
    start = time.perf_counter()
    try:
        result = task.run(task, cell, work_dir)
        curve = [dict(point) for point in result.get("curve", [])]
        problem = check_curve(task, curve)
    except Exception as exc:  # a plugin may raise anything; the cell fails, the board goes on
        logger.debug("cell %s failed:\n%s", cell, traceback.format_exc())
        return {
            "status": FAILED,
            "error": f"{type(exc).__name__}: {exc}".strip(),
            "seconds": round(time.perf_counter() - start, 3),
        }
    wanted = set(task.eval_points)
    curve = [p for p in curve if int(p["iteration"]) in wanted]
    record: dict[str, Any] = {
        "status": OK if problem is None else FAILED,
        "curve": curve,
        "final": curve[-1] if curve else {},
        "seconds": round(time.perf_counter() - start, 3),
    }
    if problem is not None:
        record["error"] = problem
    return record


def _worker_init() -> None:
    """Each worker process computes on one thread (the jobs share the cores)."""
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


Progress = Callable[[str], None]


def run_cells(
    cells: Sequence[tuple[Task, Cell]],
    store: ResultStore,
    jobs: int = 1,
    retry_failed: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Run every cell the store lacks (and, with ``retry_failed``, the failed ones again) and
    store each result as soon as it is in. ``jobs`` > 1 runs that many worker processes."""
    say = progress or (lambda message: logger.info("%s", message))
    summary = RunSummary()
    todo: list[tuple[Task, Cell]] = []
    for task, cell in cells:
        record = store.get(cell, task)
        if record is not None and not (retry_failed and record.get("status") == FAILED):
            summary.reused += 1
        else:
            todo.append((task, cell))
    say(f"{len(todo)} cell(s) to run, {summary.reused} reused from {store.root}")

    def finish(task: Task, cell: Cell, record: dict[str, Any]) -> None:
        store.put(cell, task, record)
        summary.trained += 1
        if record["status"] == FAILED:
            summary.failed += 1
        done = summary.trained
        outcome = "failed: " + record["error"] if record["status"] == FAILED else "ok"
        say(
            f"[{done}/{len(todo)}] {task.name} {cell.label()} seed {cell.seed}: {outcome} "
            f"({record['seconds']:.0f} s)"
        )

    if jobs <= 1:
        for task, cell in todo:
            finish(task, cell, execute_cell(task, cell, store.work_dir(cell, task)))
        return summary
    _run_parallel(todo, store, jobs, finish)
    return summary


def _run_parallel(
    todo: list[tuple[Task, Cell]],
    store: ResultStore,
    jobs: int,
    finish: Callable[[Task, Cell, dict[str, Any]], None],
) -> None:
    """Keep ``jobs`` worker processes busy. A worker that dies (killed, out of memory) breaks
    the pool: its cells are tried once more in a new pool, then recorded as failed."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with torch threads
    queue = list(todo)
    attempts: dict[int, int] = {}
    while queue:
        broken: list[tuple[Task, Cell]] = []
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init) as pool:
            running: dict[Future, tuple[Task, Cell]] = {}
            try:
                while queue or running:
                    while queue and len(running) < jobs:
                        task, cell = queue.pop(0)
                        work = store.work_dir(cell, task)
                        running[pool.submit(execute_cell, task, cell, work)] = (task, cell)
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        task, cell = running.pop(future)
                        try:
                            record = future.result()
                        except BrokenProcessPool:
                            broken.append((task, cell))
                            continue
                        finish(task, cell, record)
                    if broken:
                        broken.extend(running.values())
                        running.clear()
                        break
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        for task, cell in broken:
            key = id(cell)
            attempts[key] = attempts.get(key, 0) + 1
            if attempts[key] >= 2:
                finish(
                    task,
                    cell,
                    {"status": FAILED, "error": "the worker process died twice", "seconds": 0.0},
                )
            else:
                queue.insert(0, (task, cell))

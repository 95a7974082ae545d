"""The leaderboard (and the bench, its preset) on the grid runner of :mod:`ganzoo.experiments`:
cells of tasks x activations x seeds, keyed by everything their numbers depend on (so results
of another plugin, task or ganzoo version are never mixed in), run into a results store and
ranked (:func:`run_leaderboard`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ganzoo import __version__
from ganzoo.experiments import Cell as GridCell
from ganzoo.experiments import RecordStore, run_grid
from ganzoo.experiments.executors import Executor
from ganzoo.experiments.runner import Progress, RunSummary
from ganzoo.experiments.store import FAILED, OK, plain
from ganzoo.leaderboard.tasks import Cell, Task, activation_label

logger = logging.getLogger(__name__)


def cell_key(cell: Cell, task: Task, version: str | None = None) -> dict[str, Any]:
    """Everything a cell's result depends on, as a JSON-able dict (ganzoo 0.1's key)."""
    return {
        "activation": cell.activation,
        "kwargs": dict(sorted(cell.kwargs.items())),
        "origin": cell.origin,  # a new plugin version runs its rows again
        **task.fingerprint(),
        "seed": int(cell.seed),
        "ganzoo_version": version or __version__,
    }


def grid_cells(cells: Sequence[tuple[Task, Cell]], version: str | None = None) -> list[GridCell]:
    """The leaderboard's (task, cell) pairs as grid cells, grouped in the store by task."""
    return [
        GridCell(
            group=task.name,
            key=cell_key(cell, task, version),
            label=f"{task.name} {cell.label()} seed {cell.seed}",
            payload=(task, cell),
        )
        for task, cell in cells
    ]


def check_curve(task: Task, curve: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a returned curve cannot be ranked (a missing eval point, a non-finite ranking
    metric), or None when it is fine."""
    by_iteration = {int(point["iteration"]): point for point in curve}
    for iteration in task.eval_points:
        if iteration not in by_iteration:
            return f"the run returned no scores at iteration {iteration}"
        value = by_iteration[iteration].get(task.primary.name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            return f"{task.primary.name} is {value!r} at iteration {iteration}"
    return None


def run_cell(payload: tuple[Task, Cell], work_dir: Path) -> dict[str, Any]:
    """Train one cell; its record: status, the curve at the eval points, the final scores."""
    task, cell = payload
    result = task.run(task, cell, work_dir)
    curve = [dict(point) for point in result.get("curve", [])]
    problem = check_curve(task, curve)
    curve = [p for p in curve if int(p["iteration"]) in task.eval_points]
    final = curve[-1] if curve else {}
    record = {"status": OK if problem is None else FAILED, "curve": curve, "final": final}
    return record if problem is None else {**record, "error": problem}


def stale_count(store: RecordStore, tasks: Mapping[str, Task], version: str) -> int:
    """How many stored records belong to another version of a task or of ganzoo."""
    current = {n: {**plain(t.fingerprint()), "ganzoo_version": version} for n, t in tasks.items()}
    keys = [record["key"] for record in store.records() if record["key"].get("task") in current]
    return sum(any(key.get(k) != v for k, v in current[key["task"]].items()) for key in keys)


def stored_records(
    store: RecordStore, cells: Sequence[GridCell]
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The records ``store`` holds for ``cells`` (of :func:`grid_cells`) by (task, activation
    label, seed): what :func:`ganzoo.leaderboard.board.build_board` takes."""
    found = ((c.payload, store.get(c.group, c.key)) for c in cells)
    return {(task.name, cell.label(), cell.seed): r for (task, cell), r in found if r is not None}


def run_leaderboard(
    tasks: Sequence[Task],
    activations: Sequence[tuple[str, Mapping[str, Any]]],
    seeds: Sequence[int],
    store: RecordStore,
    executor: Executor | None = None,
    baseline: str = "",
    retry_failed: bool = False,
    progress: Progress | None = None,
    prepare: Callable[[list[GridCell]], None] | None = None,
) -> tuple[dict[str, Any], RunSummary]:
    """Run every (task, activation, seed) cell ``store`` lacks and rank what it holds: the board
    of :func:`~ganzoo.leaderboard.board.build_board` and the run's summary. ``prepare(cells)``
    runs once the store is known writable, before any cell trains."""
    store.check_writable()  # before any cell trains, not after the first one
    if stale := stale_count(store, {t.name: t for t in tasks}, __version__):
        logger.warning(
            "%d stored result(s) of other task settings or versions are kept in %s, not used",
            stale,
            store.root,
        )
    cells = leaderboard_cells(tasks, activations, seeds)
    if prepare is not None:
        prepare(cells)
    summary = run_grid(
        cells, store, run_cell, executor=executor, retry_failed=retry_failed, progress=progress
    )
    return board_from_store(tasks, activations, seeds, store, baseline, cells=cells), summary


def leaderboard_cells(
    tasks: Sequence[Task],
    activations: Sequence[tuple[str, Mapping[str, Any]]],
    seeds: Sequence[int],
    version: str | None = None,
) -> list[GridCell]:
    """Every (task, activation, seed) cell, task by task, keyed for ganzoo ``version``."""
    from ganzoo.activations import ACTIVATIONS

    pairs = [
        (task, Cell(name, kwargs, task.name, seed, ACTIVATIONS.origin(name)))
        for task in tasks
        for name, kwargs in activations
        for seed in seeds
    ]
    return grid_cells(pairs, version)


def board_from_store(
    tasks: Sequence[Task],
    activations: Sequence[tuple[str, Mapping[str, Any]]],
    seeds: Sequence[int],
    store: RecordStore,
    baseline: str = "",
    version: str | None = None,
    cells: Sequence[GridCell] | None = None,
) -> dict[str, Any]:
    """The board of what ``store`` holds for these cells (ganzoo ``version``'s keys; ``cells``
    when already built); reads the store, trains and writes nothing."""
    from ganzoo.leaderboard.board import build_board

    if cells is None:
        cells = leaderboard_cells(tasks, activations, seeds, version)
    labels = [activation_label(name, kwargs) for name, kwargs in activations]
    records = stored_records(store, cells)
    return build_board(tasks, labels, list(seeds), records, baseline, version or __version__)

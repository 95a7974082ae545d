"""The mode-collapse bench on the grid runner: its settings become one leaderboard task scored
at the end of its budget, its activations x seeds run through :func:`ganzoo.experiments.run_grid`
into a :class:`~ganzoo.experiments.RecordStore` in ``OUT/store`` (so a rerun trains only what is
missing, and ``--jobs`` or Slurm spread it), and its table is the leaderboard's board
(:func:`ganzoo.leaderboard.board.build_board`): one aggregation everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganzoo.experiments import RecordStore, run_grid
from ganzoo.experiments.executors import Executor
from ganzoo.experiments.runner import Progress
from ganzoo.leaderboard import mode_collapse
from ganzoo.leaderboard.board import build_board
from ganzoo.leaderboard.mode_collapse import (
    MixtureSettings,
    StackedSettings,
    run_mixture_benchmark,
)
from ganzoo.leaderboard.runner import ganzoo_version, grid_cells, run_cell, stored_records
from ganzoo.leaderboard.tasks import (
    MIXTURE_METRICS,
    STACKED_METRICS,
    Cell,
    Task,
    run_mixture,
    run_stacked_mnist,
)
from ganzoo.modecollapse.legacy import LEGACY_RUNS, import_runs

# tests/ganzoo/test_same_numbers.py imports the mixture run from here, where the bench had it.
__all__ = ["MixtureSettings", "StackedSettings", "bench_task", "run_bench", "run_mixture_benchmark"]

logger = logging.getLogger(__name__)

STACKED = "stacked_mnist"
STORE_DIR = "store"


def bench_task(name: str, settings: MixtureSettings | StackedSettings) -> Task:
    """The bench's runs of ``name`` (a mixture, or ``stacked_mnist``) at ``settings``: a task
    whose budget is ``settings.iterations``, scored once, at the end."""
    fixed = settings.as_dict()
    budget = fixed.pop("iterations")
    stacked = name == STACKED
    return Task(
        name=name,
        version=1,
        description=f"ganzoo bench mode-collapse on {name}",
        budget=budget,
        eval_points=(budget,),
        metrics=STACKED_METRICS if stacked else MIXTURE_METRICS,
        run=run_stacked_mnist if stacked else run_mixture,
        settings=fixed,
    )


def run_bench(
    task: Task,
    activations: Sequence[str],
    seeds: Sequence[int],
    out: Path,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every (activation, seed) cell of ``task`` that ``OUT/store`` lacks, after importing
    the matching runs of ``OUT/runs.jsonl``; returns the board of the stored records."""
    from ganzoo.activations import ACTIVATIONS

    store = RecordStore(Path(out) / STORE_DIR)
    store.check_writable()
    version = ganzoo_version()
    pairs = [
        (task, Cell(name, {}, task.name, seed, ACTIVATIONS.origin(name)))
        for name in activations
        for seed in seeds
    ]
    cells = grid_cells(pairs, version)
    imported = import_runs(Path(out) / LEGACY_RUNS, task, cells, store)
    if imported:
        logger.info("imported %d run(s) of %s into %s", imported, LEGACY_RUNS, store.root)
    if task.name == STACKED and any(store.get(c.group, c.key) is None for c in cells):
        # Trained and cached here once, rather than by every worker at the same time.
        _, accuracy = mode_collapse.digit_classifier()
        logger.info("digit classifier: %.2f%% held-out accuracy", 100 * accuracy)
    run_grid(cells, store, run_cell, executor=executor, progress=progress)
    records = stored_records(store, cells)
    return build_board([task], list(activations), list(seeds), records, "", version)

"""Experiments: a grid of runs (factors x seeds), one results store, executors.

:mod:`~ganzoo.experiments.runner` expands a grid and runs the cells a
:class:`~ganzoo.experiments.store.RecordStore` lacks on an executor of
:mod:`~ganzoo.experiments.executors` (here, local worker processes, or Slurm through submitit).
``ganzoo leaderboard`` is built on it.
"""

from ganzoo.experiments.executors import make_executor
from ganzoo.experiments.runner import Cell, RunSummary, grid, run_grid
from ganzoo.experiments.store import RecordStore, StoreError

__all__ = ["Cell", "RecordStore", "RunSummary", "StoreError", "grid", "make_executor", "run_grid"]

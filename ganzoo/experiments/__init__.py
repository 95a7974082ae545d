"""Experiments: a grid of runs (factors x seeds) run on an executor (local processes, or Slurm
through submitit) into one results store; ``ganzoo study``, ``ganzoo leaderboard`` and ``ganzoo
bench mode-collapse`` are its presets (docs/experiments.md)."""

from ganzoo.experiments.executors import make_executor
from ganzoo.experiments.runner import Cell, grid, run_grid
from ganzoo.experiments.store import RecordStore

__all__ = ["Cell", "RecordStore", "grid", "make_executor", "run_grid"]

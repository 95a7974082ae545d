"""Multi-seed studies: a study config (base experiment, factors, seeds), its runner (a preset of
the grid runner in :mod:`ganzoo.experiments`) and its archive of finished runs."""

from ganzoo.studies.archive import archive_study
from ganzoo.studies.config import load_study
from ganzoo.studies.runner import plan_study, read_index, run_study

__all__ = ["archive_study", "load_study", "plan_study", "read_index", "run_study"]

"""Multi-seed studies: a study config (base experiment, factors, seeds), its runner (a preset of
the grid runner in :mod:`ganzoo.experiments`) and its archive of finished runs."""

from ganzoo.studies.archive import ArchiveResult, archive_study
from ganzoo.studies.config import Factor, Level, Study, StudyRun, load_study, study_from_dict
from ganzoo.studies.runner import (
    INDEX_FILE,
    PlannedRun,
    find_run_dir,
    plan_study,
    read_index,
    run_study,
)

__all__ = [
    "INDEX_FILE",
    "ArchiveResult",
    "Factor",
    "Level",
    "PlannedRun",
    "Study",
    "StudyRun",
    "archive_study",
    "find_run_dir",
    "load_study",
    "plan_study",
    "read_index",
    "run_study",
    "study_from_dict",
]

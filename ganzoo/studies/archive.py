"""Archive a study's finished runs as records without checkpoints (config, metrics, evaluations,
the last sample grid, progress.json; optionally the final generator, for a later protocol) in a
study directory of their own that ``ganzoo report`` reads and ``ganzoo study`` skips as finished.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

from ganzoo.errors import GanzooError, WriteError, describe_os_error
from ganzoo.runs import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    METRICS_FILE,
    SAMPLES_DIR,
    epoch_length,
    load_latest_checkpoint,
    write_progress,
)
from ganzoo.studies.config import Study
from ganzoo.studies.runner import (
    RUNS_DIR,
    PlannedRun,
    plan_study,
    refuse_conflicts,
    write_index,
)

logger = logging.getLogger(__name__)

EVAL_DIR = "eval"
GENERATORS_DIR = "generators"  # in the archive's study directory: <run name>/ per finished run
# What a kept generator's checkpoint holds: enough for `ganzoo eval`, not for resuming.
GENERATOR_KEYS = ("config", "generator", "generator_ema")


@dataclasses.dataclass
class ArchiveResult:
    """Where the records went, the runs archived and those left out."""

    directory: Path  # the archive's study directory
    archived: list[PlannedRun]  # with run_dir pointing at the record
    left_out: list[PlannedRun]  # unfinished or never trained


def archive_study(study: Study, root: str | Path, keep_generators: bool = False) -> ArchiveResult:
    """Copy each finished run's record (with ``keep_generators``, its final generator too) to
    ``root/<study name>``, refreshing what is there; unfinished runs and the study are untouched."""
    plans = plan_study(study)
    refuse_conflicts(study, plans)
    target = Path(root) / study.name
    if target.resolve() == study.directory.resolve():
        raise GanzooError(
            f"--archive {root} is the study's own root ({study.directory}); choose another "
            f"directory for the records"
        )
    finished = [p for p in plans if p.action == "skip" and p.run_dir is not None]
    archived: list[PlannedRun] = []
    try:
        for plan in finished:
            try:
                relative = plan.run_dir.resolve().relative_to(study.directory.resolve())
            except ValueError:  # a run directory the index placed outside the study
                relative = Path(RUNS_DIR) / plan.run.name / plan.run_dir.name
            record = target / relative
            _copy_record(plan.run_dir, record, plan.iteration, plan.end)
            if keep_generators:
                keep_generator(plan.run_dir, target / GENERATORS_DIR / plan.run.name)
            archived.append(dataclasses.replace(plan, run_dir=record, status="done"))
        if archived:
            write_index(target, study, archived)
    except OSError as exc:
        kept = "; the records written so far are kept" if archived else ""
        raise WriteError(
            f"cannot archive into {target}: {describe_os_error(exc.filename or target, exc)}. "
            f"Free space or choose another --archive ROOT{kept}"
        ) from None
    logger.info("archived %d finished runs in %s", len(archived), target)
    return ArchiveResult(target, archived, left_out=[p for p in plans if p not in finished])


def _copy_record(run_dir: Path, record: Path, iteration: int, end: int | None) -> None:
    record.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_FILE, METRICS_FILE):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, record / name)
    if (run_dir / EVAL_DIR).is_dir():
        shutil.copytree(run_dir / EVAL_DIR, record / EVAL_DIR, dirs_exist_ok=True)
    samples = sorted((run_dir / SAMPLES_DIR).glob("iter_*.png"))
    if samples:  # the newest grid only: the report shows final samples
        (record / SAMPLES_DIR).mkdir(exist_ok=True)
        shutil.copy2(samples[-1], record / SAMPLES_DIR / samples[-1].name)
    write_progress(record, iteration, end, epoch_length(run_dir))


def keep_generator(run_dir: Path, destination: Path) -> Path:
    """Save ``run_dir``'s newest generator (EMA, config, iteration too) and config.yaml under
    ``destination``, a run directory that ``ganzoo eval`` reads; returns the checkpoint."""
    import torch

    source, data = load_latest_checkpoint(run_dir)
    kept = {key: data[key] for key in GENERATOR_KEYS if key in data}
    kept["trainer"] = {"iteration": int(data.get("trainer", {}).get("iteration", 0))}
    target = destination / CHECKPOINT_DIR / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(run_dir / CONFIG_FILE, destination / CONFIG_FILE)
    partial = target.with_suffix(".partial")
    torch.save(kept, partial)
    partial.replace(target)  # never a half-written checkpoint under the final name
    return target

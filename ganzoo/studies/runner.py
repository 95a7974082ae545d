"""Run a study as a grid of :mod:`ganzoo.experiments` whose store is the study directory, each
run a cell trained or resumed through :func:`ganzoo.train`; the directory's layout (study.json,
runs/, logs/) and the older one it still reads are in docs/experiments.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ganzoo
from evaluation import result_keys
from ganzoo.config import ExperimentConfig, config_from_dict, flatten, load_config, to_dict
from ganzoo.engine.resume import is_resumable_key
from ganzoo.engine.runlog import read_eval_curve
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.experiments import Cell, RecordStore, run_grid
from ganzoo.experiments.executors import Executor
from ganzoo.experiments.runner import RunFunction, require_finished
from ganzoo.experiments.store import FAILED, OK, key_digest
from ganzoo.runs import (
    METRICS_FILE,
    atomic_write_text,
    is_run_record,
    list_checkpoints,
    planned_end,
    read_progress,
    read_run_config,
    recorded_iteration,
)
from ganzoo.studies.config import Study, StudyRun, dotlist_value

logger = logging.getLogger(__name__)

INDEX_FILE = "study.json"
RUNS_DIR = "runs"
LOGS_DIR = "logs"


@dataclass
class PlannedRun:
    """What one run of a study needs (its action) and, once run, how it ended (its status)."""

    run: StudyRun
    config: ExperimentConfig
    action: str  # new, resume, skip, conflict
    log: Path  # logs/<run>.log in the study directory
    run_dir: Path | None = None
    iteration: int = 0  # where the run stands now
    end: int | None = None  # the configured last iteration (None: unknown until trained)
    overrides: list[str] = field(default_factory=list)  # ganzoo.train's, for new or resume
    problem: str = ""
    status: str = "pending"  # pending, done, failed, interrupted, skipped


@dataclass(frozen=True)
class StudyCell:
    """A grid cell's payload: where the study lives and which run to train (picklable)."""

    directory: Path
    base: Path
    run: StudyRun


class StudyConflictError(GanzooError):
    """A study whose run directories were trained with other values than the study file's."""


def plan_study(study: Study) -> list[PlannedRun]:
    """What each run needs; every run's config is resolved and validated first."""
    index = read_index(study.directory)
    return [plan_run(study.directory, study.base, run, index) for run in study.runs()]


def plan_run(directory: Path, base: Path, run: StudyRun, index: dict[str, Any]) -> PlannedRun:
    """One run's plan from its run directory (found through the index, else by name)."""
    try:
        config = load_config(base, run.overrides)
    except ConfigError as exc:
        raise ConfigError(f"study {directory.name}, run {run.name}: {exc}") from None
    log = directory / LOGS_DIR / f"{run.name}.log"
    plan = PlannedRun(run, config, "new", log, end=config.train.iterations, overrides=run.overrides)
    run_dir = find_run_dir(directory, run.name, index)
    if run_dir is None or not (list_checkpoints(run_dir) or read_progress(run_dir)):
        return plan
    plan.run_dir, plan.iteration = run_dir, recorded_iteration(run_dir)
    expected = flatten(to_dict(config))
    # Through the schema: a key added to ganzoo after the run was trained reads as its default
    # (which is what the run used), not as a difference.
    actual = flatten(to_dict(config_from_dict(read_run_config(run_dir), str(run_dir))))
    keys = set(expected) | set(actual)
    differ = {k for k in keys if expected.get(k, "<unset>") != actual.get(k, "<unset>")}
    changed = sorted(k for k in differ if not is_resumable_key(k))
    if changed:
        plan.action = "conflict"
        plan.problem = f"{run_dir} was trained with a different config: " + ", ".join(
            f"{k}={dotlist_value(actual.get(k, '<unset>'))} (study: "
            f"{dotlist_value(expected.get(k, '<unset>'))})"
            for k in changed
        )
        return plan
    # epochs: the end needs the epoch length the trainer recorded
    plan.end = planned_end(config.train.iterations, config.train.epochs, run_dir)
    if plan.end is not None and plan.iteration >= plan.end:
        plan.action = "skip"
    elif not list_checkpoints(run_dir):
        logger.warning(
            "%s: %s records iteration %d of %s but holds no checkpoint to resume; training it "
            "again in a new run directory",
            run.name,
            run_dir,
            plan.iteration,
            plan.end,
        )
        plan.run_dir, plan.iteration = None, 0
    else:
        plan.action = "resume"
        plan.overrides = [  # the resumable keys that differ (the progress bar is ours)
            f"{k}={dotlist_value(v)}"
            for k, v in expected.items()
            if k in differ and k != "train.progress"
        ]
    return plan


def study_cell(directory: Path, base: Path, plan: PlannedRun) -> Cell:
    """The grid cell of a planned run, in the study's group, keyed by the run's name, the
    digest of its config (all but the keys a resume may change) and its length."""
    fixed = {k: v for k, v in flatten(to_dict(plan.config)).items() if not is_resumable_key(k)}
    key = {
        "run": plan.run.name,
        "config": key_digest(fixed),
        "iterations": plan.config.train.iterations,
        "epochs": plan.config.train.epochs,
    }
    payload = StudyCell(Path(directory).absolute(), Path(base).absolute(), plan.run)
    return Cell(directory.name, key, plan.run.name, payload)


def train_study_run(payload: StudyCell, work_dir: Path) -> dict[str, Any]:
    """In the worker, under the cell's lock: plan the run again (another command may have run
    it), train or resume it through :func:`ganzoo.train` (output in ``logs/<run>.log``), return
    its record. An interrupted training raises KeyboardInterrupt: not stored, resumed next time."""
    directory = payload.directory
    plan = plan_run(directory, payload.base, payload.run, read_index(directory))
    if plan.action == "conflict":
        raise StudyConflictError(plan.problem)
    if plan.action != "skip":
        resume = plan.run_dir if plan.action == "resume" else None
        with _output_to(plan.log) as log:
            log.write(f"# {plan.action}: {' '.join(plan.overrides)}\n")
            try:
                result = ganzoo.train(
                    None if resume else payload.base,
                    plan.overrides,
                    resume=resume,
                    out=directory / RUNS_DIR,
                    progress=False,
                )
            except Exception as exc:
                log.write(f"# error: {type(exc).__name__}: {exc}\n")
                raise
            log.write(f"# {result.status} at iteration {result.iteration}: {result.run_dir}\n")
        plan.run_dir = Path(require_finished(result).run_dir)
        plan.end = planned_end(plan.config.train.iterations, plan.config.train.epochs, plan.run_dir)
    return run_record(directory, plan.run_dir, plan.end)


def run_record(directory: Path, run_dir: Path, end: int | None) -> dict[str, Any]:
    """A finished run's store record: its eval curve, the final protocol's scores and protocol
    (``eval/final.json``, from training or ``ganzoo eval``; else the last point), where it is."""
    from ganzoo.engine.handlers.evaluation import FINAL_EVAL_FILE  # (torch, ignite: lazily)

    curve = read_eval_curve(run_dir / METRICS_FILE)
    record = {
        "status": OK,
        "curve": curve,
        "final": curve[-1] if curve else {},
        "run_dir": _relative(run_dir, directory),
        "iteration": recorded_iteration(run_dir),
        "end": end,
    }
    final = _read_json(run_dir / "eval" / FINAL_EVAL_FILE)
    if isinstance(final, dict):
        scores = {k: final[k] for k in result_keys() if isinstance(final.get(k), int | float)}
        record.update(final=scores, protocol=final.get("protocol"))
    return record


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[Any]:
    """Within the block, every log line and print goes to ``log`` (appended), not the console."""
    log.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    with open(log, "a", buffering=1, encoding="utf-8") as handle:
        handler = logging.StreamHandler(handle)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
                yield handle
        finally:
            root.handlers[:], level = saved
            root.setLevel(level)


def run_study(
    study: Study, executor: Executor | None = None, run: RunFunction = train_study_run
) -> list[PlannedRun]:
    """Train what is missing on ``executor`` (default: here); failures are recorded, not raised;
    an interrupt leaves the runs in flight checkpointed, not stored, for the same command."""
    plans = plan_study(study)
    refuse_conflicts(study, plans)
    store = RecordStore(study.directory.absolute())
    store.check_writable()
    cells = [study_cell(study.directory, study.base, plan) for plan in plans]
    for plan, cell in zip(plans, cells):
        if plan.action == "skip" and store.get(cell.group, cell.key) is None:
            # finished before the study had a store (or by another command): record it as is
            store.put(cell.group, cell.key, run_record(study.directory, plan.run_dir, plan.end))

    def progress(message: str, interrupted: bool = False) -> None:
        logger.info("%s", message)
        update_statuses(plans, cells, store, interrupted)
        write_index(study.directory, study, plans)

    progress(f"study {study.name}: {len(plans)} runs in {study.directory}")
    try:
        run_grid(cells, store, run, executor, retry_failed=True, progress=progress)
    except KeyboardInterrupt:
        progress(f"study {study.name} interrupted; the same command resumes it", True)
    else:
        progress(f"study {study.name}: done")
    return plans


def update_statuses(
    plans: Sequence[PlannedRun], cells: Sequence[Cell], store: RecordStore, interrupted: bool
) -> None:
    """Each plan's status, iteration and run directory from its cell's record in the store."""
    for plan, cell in zip(plans, cells):
        record = store.get(cell.group, cell.key)
        plan.run_dir = plan.run_dir or find_run_dir(store.root, plan.run.name, {})
        if record is None and interrupted and plan.run_dir is not None:
            plan.status = "interrupted"
            plan.problem = "interrupted by a signal; run the study again to resume it"
            plan.iteration = recorded_iteration(plan.run_dir)
        elif record is not None and record["status"] == FAILED:
            plan.status, plan.problem = "failed", record.get("error", "")
        elif record is not None:
            plan.status = "skipped" if plan.action == "skip" else "done"
            plan.run_dir = store.root / record["run_dir"]
            plan.iteration, plan.end = record["iteration"], record["end"]


def refuse_conflicts(study: Study, plans: Sequence[PlannedRun]) -> None:
    """Refuse a study whose runs were trained with other values (its file was edited since),
    before anything is trained or written: study.json keeps the values its runs used."""
    conflicts = [p for p in plans if p.action == "conflict"]
    if not conflicts:
        return
    described = "; ".join(
        f"{p.run.name} (iteration {p.iteration}{f'/{p.end}' if p.end else ''}): {p.problem}"
        for p in conflicts
    )
    raise StudyConflictError(
        f"study {study.name} in {study.directory} holds {len(conflicts)} run(s) trained with "
        f"other values than {study.source} now gives: {described}. Nothing was trained and "
        f"{INDEX_FILE} is unchanged. To train the new values as a new study, give it another "
        f"name (`name:` in {study.source}) or another root (--out DIR); to continue this study, "
        f"restore the values its runs used (recorded in {study.directory / INDEX_FILE})."
    )


def read_index(directory: Path) -> dict[str, Any]:
    """A study directory's study.json; {} when it has none or it is unreadable."""
    return _read_json(Path(directory) / INDEX_FILE, "; run directories are found by name") or {}


def _read_json(path: Path, consequence: str = "") -> Any:
    """``path``'s JSON; None when it is missing or unreadable (with a warning)."""
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable %s (%s)%s", path, exc, consequence)
        return None


def write_index(directory: Path, study: Study, plans: Sequence[PlannedRun]) -> None:
    """study.json: the study and, per run, its levels, overrides, run directory and status."""
    runs = {
        plan.run.name: {
            "variant": plan.run.variant,
            "seed": plan.run.seed,
            "levels": plan.run.levels,
            "overrides": plan.run.overrides,
            "run_dir": _relative(plan.run_dir, directory),
            "status": plan.status,
            "iteration": plan.iteration,
            "end": plan.end,
            "problem": plan.problem or None,
        }
        for plan in plans
    }
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"study": study.to_dict(), "runs": runs}, indent=2)
    atomic_write_text(directory / INDEX_FILE, text + "\n")


def find_run_dir(directory: Path, name: str, index: dict[str, Any]) -> Path | None:
    """The run directory of run ``name``: the index's, else the newest under runs/<name>/
    (the newest with checkpoints, if any has)."""
    entry = (index.get("runs") or {}).get(name) or {}
    if entry.get("run_dir"):
        path = Path(directory) / entry["run_dir"]  # an absolute run_dir stays as it is
        if is_run_record(path):
            return path
    parent = Path(directory) / RUNS_DIR / name
    candidates = sorted(p for p in parent.iterdir() if is_run_record(p)) if parent.is_dir() else []
    with_checkpoints = [p for p in candidates if list_checkpoints(p)]
    return (with_checkpoints or candidates or [None])[-1]


def _relative(path: Path | None, directory: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path(directory).resolve()))
    except ValueError:
        return str(path)

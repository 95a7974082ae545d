"""Run a study: every combination in its own run directory, skipping finished runs and resuming
unfinished ones.

Layout of a study directory ``<out>/<name>/``::

    study.json                 # the index: the study and, per run, its levels, seed and run dir
    runs/<run name>/<stamp>/   # ordinary ganzoo run directories (run name: psf_seed0, ...)
    logs/<run name>.log        # each training's output (appended across resumes)

Each training is :func:`ganzoo.train` in a spawned worker process (its log lines and output go
to the run's log), so one crash cannot take the others down and ``--jobs N`` trains N at a
time. A run's plan is also written as the ``ganzoo train`` command that does the same.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.config import ExperimentConfig, config_from_dict, load_config, to_dict
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.runs import (
    RESUMABLE_OVERRIDES,
    atomic_write_text,
    is_run_record,
    list_checkpoints,
    newest_checkpoint_iteration,
    planned_end,
    read_progress,
    read_run_config,
    recorded_iteration,
)
from ganzoo.studies.config import Study, StudyRun

logger = logging.getLogger(__name__)

INDEX_FILE = "study.json"
RUNS_DIR = "runs"
LOGS_DIR = "logs"
# A training stopped by SIGINT or SIGTERM (shell codes; negative: multiprocessing's "killed by
# signal N"): it checkpointed and resumes, so the run is interrupted, not failed.
INTERRUPTED_CODES = (130, 143, -2, -15)
STOP_GRACE_S = 60.0  # how long an interrupted training may take to checkpoint and stop


# Runs one ganzoo command (argv after `ganzoo`), writing its output to the log; returns the
# exit status.
Execute = Callable[[Sequence[str], Path, dict[str, str]], int]


@dataclass
class PlannedRun:
    run: StudyRun
    config: ExperimentConfig
    action: str  # new, resume, skip, conflict
    run_dir: Path | None = None
    iteration: int = 0  # where the run stands now
    end: int | None = None  # the configured last iteration (None: unknown until trained)
    argv: list[str] = field(default_factory=list)
    problem: str = ""
    status: str = "pending"  # pending, done, failed, interrupted, skipped
    log: Path | None = None


def library_execute(argv: Sequence[str], log: Path, env: dict[str, str]) -> int:
    """Run the ``ganzoo train`` command ``argv`` as :func:`ganzoo.train` in a spawned worker
    process, its output appended to ``log``; returns the exit status the command would have
    (0 finished, 2 failed or bad input, 130/143 interrupted, -N killed by signal N)."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with torch threads
    with log.open("a") as handle:
        handle.write(f"$ ganzoo {' '.join(argv)}\n")
    worker = context.Process(target=_train_to_log, args=(list(argv), str(log), env))
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        # The training got the same Ctrl-C: give it the time to write its checkpoint.
        worker.join(STOP_GRACE_S)
        if worker.is_alive():
            worker.kill()
        raise
    return worker.exitcode if worker.exitcode is not None else -1


def train_arguments(argv: Sequence[str]) -> dict[str, Any]:
    """:func:`ganzoo.train`'s arguments for a command :func:`plan_study` wrote:
    ``train CONFIG OVERRIDE... --out DIR`` or ``train --resume RUN_DIR OVERRIDE...``."""
    argv = list(argv)[1:]
    if argv[0] == "--resume":
        return {"config": None, "overrides": argv[2:], "resume": argv[1], "out": None}
    out = argv.index("--out")
    return {"config": argv[0], "overrides": argv[1:out], "resume": None, "out": argv[out + 1]}


def _train_to_log(argv: list[str], log: str, env: dict[str, str]) -> None:
    """In the worker: train, with every log line and print going to ``log``; exit with the
    status a ``ganzoo train`` command would."""
    import contextlib

    os.environ.update(env)
    with (
        open(log, "a", buffering=1) as handle,
        contextlib.redirect_stdout(handle),
        contextlib.redirect_stderr(handle),
    ):
        logging.basicConfig(level=logging.INFO, stream=handle, format="%(levelname)s %(message)s")
        try:
            import ganzoo

            result = ganzoo.train(**train_arguments(argv), progress=False)
        except GanzooError as exc:
            print(f"error: {exc}")
            code = 2
        else:
            print(result.run_dir)
            if result.detail:
                print(result.detail)
            code = result.exit_code
    sys.exit(code)


def plan_study(study: Study) -> list[PlannedRun]:
    """What each run needs; every run's config is resolved and validated first."""
    index = read_index(study.directory)
    plans = []
    for run in study.runs():
        try:
            config = load_config(study.base, run.overrides)
        except ConfigError as exc:
            raise ConfigError(f"study {study.source}, run {run.name}: {exc}") from None
        plan = PlannedRun(run=run, config=config, action="new")
        plan.end = config.train.iterations
        plan.log = study.directory / LOGS_DIR / f"{run.name}.log"
        run_dir = find_run_dir(study.directory, run.name, index)
        if run_dir is not None and (list_checkpoints(run_dir) or read_progress(run_dir)):
            plan.run_dir = run_dir
            _plan_existing(plan, run_dir)
        if plan.action == "new":
            plan.argv = [
                "train",
                str(study.base),
                *run.overrides,
                "train.progress=false",
                "--out",
                str(study.directory / RUNS_DIR),
            ]
        plans.append(plan)
    return plans


def _plan_existing(plan: PlannedRun, run_dir: Path) -> None:
    expected = _flatten(to_dict(plan.config))
    # Through the schema: a key added to ganzoo after the run was trained reads as its default
    # (which is what the run used), not as a difference.
    actual = _flatten(to_dict(config_from_dict(read_run_config(run_dir), str(run_dir))))
    changed = sorted(
        k
        for k in set(expected) | set(actual)
        if not _resumable(k) and expected.get(k, "<unset>") != actual.get(k, "<unset>")
    )
    plan.iteration = recorded_iteration(run_dir)
    if changed:
        plan.action = "conflict"
        plan.problem = f"{run_dir} was trained with a different config: " + ", ".join(
            f"{k}={_to_text(actual.get(k, '<unset>'))} (study: "
            f"{_to_text(expected.get(k, '<unset>'))})"
            for k in changed
        )
        return
    # epochs: the end needs the epoch length the trainer recorded
    plan.end = planned_end(plan.config.train.iterations, plan.config.train.epochs, run_dir)
    if plan.end is not None and plan.iteration >= plan.end:
        plan.action = "skip"
        return
    if not list_checkpoints(run_dir):
        # A record of an unfinished run: nothing to resume from, so it trains again.
        logger.warning(
            "%s: %s records iteration %d of %s but holds no checkpoint to resume; training it "
            "again in a new run directory",
            plan.run.name,
            run_dir,
            plan.iteration,
            plan.end,
        )
        plan.run_dir, plan.iteration = None, 0
        return
    plan.action = "resume"
    changes = [
        f"{k}={_to_text(v)}"
        for k, v in expected.items()
        if _resumable(k) and actual.get(k) != v and k != "train.progress"
    ]
    plan.argv = ["train", "--resume", str(run_dir), *changes]


def run_study(study: Study, jobs: int = 1, execute: Execute | None = None) -> list[PlannedRun]:
    """Train what is missing, ``jobs`` at a time; failures are recorded, never raised."""
    if jobs < 1:
        raise GanzooError(f"--jobs must be at least 1, got {jobs}")
    execute = execute or library_execute
    plans = plan_study(study)
    refuse_conflicts(study, plans)
    directory = study.directory
    (directory / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    (directory / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    env = {}
    if jobs > 1 and "OMP_NUM_THREADS" not in os.environ:
        # N trainings at once: split the cores instead of oversubscribing them.
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))

    def save_index() -> None:
        with lock:
            write_index(directory, study, plans)

    for plan in plans:
        if plan.action == "skip":
            plan.status = "skipped"
    save_index()

    def train(plan: PlannedRun) -> None:
        logger.info("%s: %s", plan.run.name, plan.action)
        try:
            code = execute(plan.argv, plan.log, env)
        except Exception as exc:  # a launcher failure is this run's failure only
            code = -1
            plan.problem = f"could not start: {exc}"
        found = find_run_dir(directory, plan.run.name, {}) if plan.run_dir is None else None
        plan.run_dir = plan.run_dir or found
        if plan.run_dir is not None and list_checkpoints(plan.run_dir):
            plan.iteration = newest_checkpoint_iteration(plan.run_dir)
        if code == 0:
            plan.status = "done"
        elif code in INTERRUPTED_CODES:
            plan.status = "interrupted"
            plan.problem = "interrupted by a signal; run the study again to resume it"
        else:
            plan.status = "failed"
            plan.problem = plan.problem or f"exit status {code}; {_tail(plan.log)}"
        logger.info("%s: %s", plan.run.name, plan.status)
        save_index()

    todo = [p for p in plans if p.action in ("new", "resume")]
    if jobs == 1:
        for plan in todo:
            train(plan)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(train, todo))
    return plans


def refuse_conflicts(study: Study, plans: Sequence[PlannedRun]) -> None:
    """Refuse to run a study whose existing runs were trained with other values (its file was
    edited after they ran), before anything is trained or written: study.json must keep
    recording the values its runs used."""
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


class StudyConflictError(GanzooError):
    """A study whose run directories were trained with other values than the study file's."""


# -- the index and finding run directories ----------------------------------------------------


def read_index(directory: Path) -> dict[str, Any]:
    path = Path(directory) / INDEX_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable %s (%s); run directories are found by name", path, exc)
        return {}


def write_index(directory: Path, study: Study, plans: Sequence[PlannedRun]) -> None:
    runs = {}
    for plan in plans:
        runs[plan.run.name] = {
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
    data = {"study": study.to_dict(), "runs": runs}
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(directory / INDEX_FILE, json.dumps(data, indent=2) + "\n")


def find_run_dir(directory: Path, name: str, index: dict[str, Any]) -> Path | None:
    """The run directory of run ``name``: the index's, else the newest under runs/<name>/."""
    entry = (index.get("runs") or {}).get(name) or {}
    if entry.get("run_dir"):
        path = Path(entry["run_dir"])
        path = path if path.is_absolute() else Path(directory) / path
        if is_run_record(path):
            return path
    parent = Path(directory) / RUNS_DIR / name
    if not parent.is_dir():
        return None
    candidates = sorted(p for p in parent.iterdir() if is_run_record(p))
    with_checkpoints = [p for p in candidates if list_checkpoints(p)]
    pick = with_checkpoints or candidates
    return pick[-1] if pick else None


def _relative(path: Path | None, directory: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path(directory).resolve()))
    except ValueError:
        return str(path)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def _resumable(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in RESUMABLE_OVERRIDES)


def _to_text(value: Any) -> str:
    return (
        "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def _tail(log: Path | None, lines: int = 3) -> str:
    if log is None or not log.is_file():
        return "no log"
    text = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return "last output: " + " | ".join(text[-lines:]) if text else "no output"

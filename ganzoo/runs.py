"""Run directories and checkpoints on disk.

A run directory is ``<root>/<config name>/<timestamp>/`` holding ``config.yaml``,
``checkpoints/``, ``samples/``, ``tb/`` and ``metrics.jsonl``. A run *record* is what is left of
a finished run without its checkpoints (``ganzoo study --archive``): ``config.yaml``,
``metrics.jsonl`` and ``progress.json`` (where it stopped and its epoch length). Checkpoints are
loaded with ``torch.load(weights_only=True)``, so a file received from someone else cannot run code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
import yaml

from ganzoo.errors import CheckpointError

logger = logging.getLogger(__name__)

FILE_MODE = 0o644  # of files written atomically (mkstemp would leave them 0600)
CONFIG_FILE = "config.yaml"
CHECKPOINT_DIR = "checkpoints"
SAMPLES_DIR = "samples"
TENSORBOARD_DIR = "tb"
METRICS_FILE = "metrics.jsonl"
PROGRESS_FILE = "progress.json"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint_(\d+)\.pt$")

# Keys that may change when resuming: how long to train and how to log. Everything else would
# make the resumed run a different experiment.
RESUMABLE_OVERRIDES = (
    "train.iterations",
    "train.epochs",
    "train.progress",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "eval.",
)


def create_run_dir(root: str | Path, name: str) -> Path:
    """Make a new, empty ``root/name/<timestamp>/``; never reuses an existing directory."""
    parent = Path(root) / name
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1000):
            candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
            try:
                candidate.mkdir()  # atomic: fails if another run took this name
            except FileExistsError:
                continue
            for sub in (CHECKPOINT_DIR, SAMPLES_DIR, TENSORBOARD_DIR):
                (candidate / sub).mkdir()
            return candidate
    except OSError as exc:
        raise CheckpointError(
            f"cannot create a run directory under {parent}: {exc.strerror or exc}. "
            f"Choose a writable place with --out DIR."
        ) from None
    raise CheckpointError(f"could not find a free run directory name under {parent}")


def remove_partial_checkpoints(run_dir: Path) -> list[Path]:
    """Delete the temporary files of checkpoint writes that were cut off (a SIGKILL or power
    loss between writing and renaming); ignite's DiskSaver names them ``tmp*``. Returns them."""
    removed = []
    for path in (Path(run_dir) / CHECKPOINT_DIR).glob("tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def remove_unused_run_dir(path: Path) -> bool:
    """Delete a new run's directory that holds no checkpoint (a run that failed while starting:
    bad weights, an unreadable image), whatever else its handlers had begun to write there (an
    empty TensorBoard file, folders), and its parent when left empty. A directory with a
    checkpoint is kept. Returns whether it was removed."""
    path = Path(path)
    if not path.is_dir() or list_checkpoints(path):
        return False
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # the config name's folder, when this was its only run
    return not path.exists()


def is_run_dir(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file() and (path / CHECKPOINT_DIR).is_dir()


def is_run_record(path: Path) -> bool:
    """A run directory, or a finished run's record kept without its checkpoints."""
    return is_run_dir(path) or ((path / CONFIG_FILE).is_file() and (path / PROGRESS_FILE).is_file())


def read_progress(run_dir: Path) -> dict[str, Any] | None:
    """A run record's ``progress.json`` (``iteration``, ``end``, ``epoch_length``); None when
    there is none or it does not read as a mapping."""
    path = Path(run_dir) / PROGRESS_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        logger.warning("ignoring unreadable %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def write_progress(
    run_dir: Path, iteration: int, end: int | None, epoch_length: int | None
) -> None:
    """Record where a run stopped and its epoch length, for when its checkpoints are gone."""
    data = {"iteration": int(iteration), "end": end, "epoch_length": epoch_length}
    atomic_write_text(Path(run_dir) / PROGRESS_FILE, json.dumps(data, indent=2) + "\n")


def require_run_dir(path: str | Path) -> Path:
    """``path`` as a run directory, or an error saying what a run directory holds."""
    path = Path(path)
    if path.is_file():
        parent = path.parent.parent if path.parent.name == CHECKPOINT_DIR else path.parent
        raise CheckpointError(
            f"{path} is a file, but a run directory is needed (the one holding {CONFIG_FILE} "
            f"and {CHECKPOINT_DIR}/, which `ganzoo train` printed last); perhaps {parent}"
        )
    if not path.is_dir():
        raise CheckpointError(f"run directory {path} does not exist")
    if not is_run_dir(path) and is_run_record(path):
        raise CheckpointError(
            f"{path} is an archived run record ({PROGRESS_FILE}, no checkpoints): its metrics can "
            f"be reported (`ganzoo report`), but it cannot be resumed or evaluated. Use the run "
            f"directory it was archived from, or train the run again."
        )
    if not is_run_dir(path):
        raise CheckpointError(
            f"{path} is not a ganzoo run directory: it needs {CONFIG_FILE} and {CHECKPOINT_DIR}/ "
            f"(the directory that `ganzoo train` printed last)"
        )
    return path


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CONFIG_FILE
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CheckpointError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} does not hold a config mapping")
    return data


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoints, oldest first (by iteration)."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    found = []
    for path in directory.glob("checkpoint_*.pt"):
        match = CHECKPOINT_PATTERN.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only``); a corrupt file is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a pickle naming code to run, a truncated zip, another format
        text = str(exc).strip()
        unpickling = isinstance(exc, pickle.UnpicklingError)
        found = re.search(r"GLOBAL (\S+)", text) if unpickling else None
        if found:
            raise CheckpointError(
                f"checkpoint {path} was refused: it holds a reference to {found.group(1)}, and "
                f"unpickling it could run code. ganzoo loads only tensors and plain containers "
                f"(torch.load weights_only=True); use checkpoints that ganzoo wrote."
            ) from None
        reason = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({reason}): it is truncated or corrupt, or not a "
            f"checkpoint file"
        ) from None
    if not isinstance(data, dict) or "generator" not in data or "config" not in data:
        raise CheckpointError(f"{path} is not a ganzoo checkpoint (no generator or config in it)")
    return data


def load_latest_checkpoint(run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The newest checkpoint that loads; corrupt newer ones are reported and skipped."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise CheckpointError(
            f"{run_dir} has no checkpoints in {CHECKPOINT_DIR}/; nothing to resume or evaluate"
        )
    problems = []
    for path in reversed(checkpoints):
        try:
            return path, load_checkpoint(path)
        except CheckpointError as exc:
            logger.warning("skipping a checkpoint that does not load, trying an older one: %s", exc)
            problems.append(str(exc))
    raise CheckpointError(
        f"no checkpoint in {run_dir / CHECKPOINT_DIR} can be loaded: " + " | ".join(problems)
    )


def newest_checkpoint_iteration(run_dir: Path) -> int:
    """The iteration of the run's newest checkpoint (what a resume starts from); 0 if none."""
    checkpoints = list_checkpoints(run_dir)
    match = CHECKPOINT_PATTERN.match(checkpoints[-1].name) if checkpoints else None
    return int(match.group(1)) if match else 0


def recorded_iteration(run_dir: Path) -> int:
    """The furthest iteration the run saved: its newest checkpoint's, or its record's."""
    progress = read_progress(run_dir) or {}
    recorded = progress.get("iteration")
    recorded = int(recorded) if isinstance(recorded, int) else 0
    return max(newest_checkpoint_iteration(run_dir), recorded)


def epoch_length(run_dir: Path) -> int | None:
    """Iterations per epoch as the trainer recorded it: in the run record, else in the newest
    loadable checkpoint; None when neither says."""
    length = (read_progress(run_dir) or {}).get("epoch_length")
    if isinstance(length, int) and length > 0:
        return length
    if not list_checkpoints(run_dir):
        return None
    try:
        _, checkpoint = load_latest_checkpoint(run_dir)
    except CheckpointError as exc:
        logger.warning("cannot tell how long an epoch of %s is: %s", run_dir, exc)
        return None
    trainer = checkpoint.get("trainer")
    length = trainer.get("epoch_length") if isinstance(trainer, dict) else None
    return int(length) if length else None


def planned_end(iterations: int | None, epochs: int | None, run_dir: Path) -> int | None:
    """A run's planned last iteration: ``iterations``, or ``epochs`` times the run's recorded
    epoch length; None when neither is known."""
    if iterations is not None:
        return int(iterations)
    if epochs is None:
        return None
    length = epoch_length(run_dir)
    return int(epochs) * length if length else None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file (mode 0644) and a rename, so
    a reader sees the old or the new content, never a part; a failed write leaves no file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise

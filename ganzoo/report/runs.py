"""Load run directories (or a study's) for a report: config, metrics, evaluations, samples."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.engine.runlog import read_records
from ganzoo.errors import GanzooError
from ganzoo.report.aggregate import is_number
from ganzoo.runs import (
    METRICS_FILE,
    SAMPLES_DIR,
    is_run_record,
    planned_end,
    read_run_config,
    recorded_iteration,
)

logger = logging.getLogger(__name__)

SAMPLE_PATTERN = re.compile(r"^iter_(\d+)\.png$")


@dataclass
class RunData:
    """Everything a report reads from one run directory."""

    path: Path
    config: dict[str, Any]
    train: list[dict[str, Any]] = field(default_factory=list)  # metrics.jsonl training lines
    evals: list[dict[str, Any]] = field(default_factory=list)  # {"iteration", **metrics}
    collapses: list[dict[str, Any]] = field(default_factory=list)  # {"iteration", "collapse"}
    eval_files: dict[str, dict[str, Any]] = field(default_factory=dict)  # suite -> eval JSON
    samples: list[tuple[int, Path]] = field(default_factory=list)  # (iteration, grid PNG)
    levels: dict[str, str] | None = None  # a study's factor -> level label, when known
    reached: int = 0  # the furthest iteration it logged or checkpointed
    end: int | None = None  # its planned last iteration, when the config and checkpoint say

    @property
    def unfinished(self) -> bool:
        """Stopped before its planned end: its last values are not its final ones."""
        return self.end is not None and self.reached < self.end

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.path.name)

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """(iterations, values) of a training-line key, skipping lines without it."""
        return _series(self.train, key)

    def eval_series(self, key: str) -> tuple[list[int], list[float]]:
        return _series(self.evals, key)

    def epoch_at(self, iteration: int) -> int | None:
        """The training epoch (1-based, as logged) that ``iteration`` fell in: the epoch of the
        last training line at or before it; None when no line says."""
        epochs = [
            int(r["epoch"])
            for r in self.train
            if r["iteration"] <= iteration and is_number(r.get("epoch"))
        ]
        return epochs[-1] if epochs else None

    def parameter_keys(self) -> list[str]:
        """Learnable activation scalars logged per layer, e.g. generator/blocks.0.act/alpha."""
        prefixes = ("generator/", "discriminator/")
        return list(dict.fromkeys(k for r in self.train for k in r if k.startswith(prefixes)))

    @property
    def final_sample(self) -> Path | None:
        return self.samples[-1][1] if self.samples else None


def load_run(path: str | Path, levels: dict[str, str] | None = None) -> RunData:
    path = Path(path)
    run = RunData(path=path, config=read_run_config(path), levels=levels)
    for record in read_records(path / METRICS_FILE):  # a line cut short by a kill is skipped
        if not isinstance(record, dict) or "iteration" not in record:
            continue
        if isinstance(record.get("eval"), dict):
            run.evals.append({"iteration": record["iteration"], **record["eval"]})
        elif isinstance(record.get("collapse"), dict):
            run.collapses.append(record)
        elif not isinstance(record.get("final"), dict):  # the final protocol's is eval/final.json
            run.train.append(record)
    # A resumed run may repeat iterations after its checkpoint: keep the last line for each.
    run.train, run.evals = _dedupe(run.train), _dedupe(run.evals)
    run.eval_files.update(read_eval_files(path / "eval"))
    last_logged = max((r["iteration"] for r in run.train + run.evals), default=0)
    run.reached = max(recorded_iteration(path), int(last_logged))
    train = run.config.get("train") if isinstance(run.config.get("train"), dict) else {}
    run.end = planned_end(train.get("iterations"), train.get("epochs"), path)
    found = [(SAMPLE_PATTERN.match(p.name), p) for p in (path / SAMPLES_DIR).glob("iter_*")]
    run.samples = sorted((int(m.group(1)), p) for m, p in found if m)
    return run


def load_runs(paths: Iterable[str | Path]) -> list[RunData]:
    """Runs from run directories, study directories (study.json) or folders holding runs."""
    from ganzoo.studies.archive import GENERATORS_DIR
    from ganzoo.studies.runner import INDEX_FILE, find_run_dir, read_index

    runs: list[RunData] = []
    seen: set[Path] = set()

    def add(path: Path, levels: dict[str, str] | None = None) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            runs.append(load_run(path, levels))

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise GanzooError(f"{path} does not exist or is not a directory")
        if is_run_record(path):
            add(path)
        elif (path / INDEX_FILE).is_file():
            index = read_index(path)
            for name, entry in (index.get("runs") or {}).items():
                run_dir = find_run_dir(path, name, index)
                if run_dir is None:
                    logger.warning("study run %s has no run directory yet; skipped", name)
                    continue
                add(run_dir, entry.get("levels"))
                # Its final generator kept by --archive --keep-generators and scored afterwards
                # (`ganzoo eval`) has its own eval/: read as the run's (the run's files win).
                kept = read_eval_files(path / GENERATORS_DIR / name / "eval")
                runs[-1].eval_files = {**kept, **runs[-1].eval_files}
        else:
            found = sorted(p.parent for p in path.rglob("config.yaml") if is_run_record(p.parent))
            if not found:
                raise GanzooError(
                    f"{path} is neither a run directory (config.yaml + checkpoints/), a study "
                    f"directory ({INDEX_FILE}) nor a folder containing run directories"
                )
            for run_dir in found:
                add(run_dir)
    if not runs:
        raise GanzooError("no runs to report on")
    return runs


def read_eval_files(folder: Path) -> dict[str, dict[str, Any]]:
    """The evaluation results in ``folder`` (``eval/final.json`` ...) by file stem; an unreadable
    file is skipped with a warning."""
    found = {}
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("cannot read %s: %s", file, exc)
            continue
        if isinstance(data, dict):
            found[file.stem] = data
    return found


def _dedupe(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_iteration = {int(r["iteration"]): r for r in records}
    return [by_iteration[k] for k in sorted(by_iteration)]


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(r["iteration"], float(r[key])) for r in records if is_number(r.get(key))]
    return [p[0] for p in points], [p[1] for p in points]

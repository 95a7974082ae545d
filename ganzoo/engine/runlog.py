"""The run's log: one object owning ``metrics.jsonl`` and the TensorBoard writer.

Every handler that records something (losses, activation parameters, sample grids, evaluation
results) writes through the one :class:`RunLog` of the run, which opens both files when training
starts and keeps each iteration once across resumes: lines past the resumed iteration (from
steps that were lost with a damaged checkpoint) move to ``metrics.replaced.jsonl``, and
TensorBoard purges its events past that iteration.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.runs import METRICS_FILE, TENSORBOARD_DIR

logger = logging.getLogger(__name__)

REPLACED_FILE = "metrics.replaced.jsonl"


class OutputError(GanzooError):
    """Writing the run's files failed (a full disk, a permission)."""


def write_failure(path: Path, exc: BaseException, run_dir: Path) -> OutputError:
    """One line for a failed write of ``path`` (the checkpoints already on disk stay)."""
    cause = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
    return OutputError(
        f"cannot write {path}: {cause}. Free disk space or fix the permissions, then continue "
        f"with ganzoo train --resume {run_dir}"
    )


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of ``path`` (a line cut short by a kill is skipped)."""
    if not path.is_file():
        return []
    records = []
    for text in path.read_text().splitlines():
        try:
            records.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return records


def read_eval_curve(path: Path) -> list[dict[str, Any]]:
    """``[{"iteration": i, <metric>: value, ...}]`` from a run's metrics file's evaluation
    records (the last record per iteration wins: a resumed run may repeat one)."""
    by_iteration: dict[int, dict[str, Any]] = {}
    for record in read_records(path):
        if isinstance(record.get("eval"), dict):
            iteration = int(record["iteration"])
            by_iteration[iteration] = {"iteration": iteration, **record["eval"]}
    return [by_iteration[i] for i in sorted(by_iteration)]


class RunLog:
    """``metrics.jsonl`` and the TensorBoard event files of ``run_dir`` (rank 0 only)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.metrics_path = self.run_dir / METRICS_FILE
        self._metrics: Any = None
        self._writer: Any = None

    # -- opening and closing ------------------------------------------------------------------

    def open(self, start_iteration: int) -> None:
        """Open both files for a run (re)starting after ``start_iteration`` iterations."""
        if self._metrics is not None:
            return
        from torch.utils.tensorboard import SummaryWriter

        try:
            if start_iteration > 0:
                self._drop_records_after(start_iteration)
            self._metrics = self.metrics_path.open("a")
            # purge_step: TensorBoard hides events at or past it from earlier sessions.
            purge = start_iteration + 1 if start_iteration > 0 else None
            self._writer = SummaryWriter(
                log_dir=str(self.run_dir / TENSORBOARD_DIR), purge_step=purge
            )
        except OSError as exc:
            raise write_failure(self.metrics_path, exc, self.run_dir) from None

    def close(self) -> None:
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _drop_records_after(self, iteration: int) -> None:
        """Move lines logged past ``iteration`` (lost steps that will be trained again) to
        ``metrics.replaced.jsonl``, so that metrics.jsonl holds each iteration once."""
        if not self.metrics_path.is_file():
            return
        keep, replaced = [], []
        for text in self.metrics_path.read_text().splitlines():
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            (replaced if record.get("iteration", 0) > iteration else keep).append(text)
        if not replaced:
            return
        with (self.run_dir / REPLACED_FILE).open("a") as handle:
            handle.write("".join(line + "\n" for line in replaced))
        tmp = self.metrics_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(line + "\n" for line in keep))
        os.replace(tmp, self.metrics_path)
        logger.info(
            "resuming at iteration %d: moved %d metrics.jsonl lines of later iterations to %s",
            iteration,
            len(replaced),
            REPLACED_FILE,
        )

    # -- writing --------------------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> None:
        """One JSON line in metrics.jsonl, flushed."""
        try:
            self._metrics.write(json.dumps(record) + "\n")
            self._metrics.flush()
        except OSError as exc:
            raise write_failure(self.metrics_path, exc, self.run_dir) from None

    def scalars(self, iteration: int, values: dict[str, float], section: str = "train") -> None:
        """TensorBoard scalars; a key with a '/' keeps it, others go under ``section/``."""
        for key, value in values.items():
            tag = key if "/" in key else f"{section}/{key}"
            self._writer.add_scalar(tag, value, iteration)

    def histogram(self, tag: str, values: Any, iteration: int) -> None:
        self._writer.add_histogram(tag, values, iteration)

    def image(self, tag: str, image: Any, iteration: int) -> None:
        self._writer.add_image(tag, image, iteration)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def records(self) -> list[dict[str, Any]]:
        """Every record in metrics.jsonl so far."""
        return read_records(self.metrics_path)

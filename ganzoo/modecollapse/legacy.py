"""Results of the bench before it ran on the grid: ``OUT/runs.jsonl``, one JSON line per run.

Lines whose task, settings and thread count (one) are those of a cell asked for now become that
cell's record in the store, as it would have written it (the training and its numbers did not
change: tests/ganzoo/modecollapse pins them); other lines are left unused, the file untouched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from ganzoo.errors import GanzooError
from ganzoo.experiments import Cell, RecordStore
from ganzoo.experiments.store import OK
from ganzoo.leaderboard.tasks import Task

logger = logging.getLogger(__name__)

LEGACY_RUNS = "runs.jsonl"
# A line's fields that are not metrics: what ran (now the record's key), losses, wall time.
NOT_METRICS = ("task", "activation", "seed", "settings", "threads", "seconds")
NOT_METRICS += ("final_loss_d", "final_loss_g")


def import_runs(path: Path, task: Task, cells: Sequence[Cell], store: RecordStore) -> int:
    """Store the runs of ``path`` that match one of ``cells`` (the bench's grid cells of
    ``task``) and are not in ``store`` yet; returns how many. A line that is not such a run is
    one error saying how to go on, before anything is stored (a line cut short at the end, a
    killed run, is skipped)."""
    if not path.is_file():
        return 0
    wanted = {(cell.payload[1].activation, cell.payload[1].seed): cell for cell in cells}
    current = (task.name, {**task.settings, "iterations": task.budget}, 1)  # one thread
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            run = json.loads(line) if line.strip() else None
            if run is not None and (run["task"], run["settings"], run["threads"]) == current:
                found.append((wanted.get((run["activation"], int(run["seed"]))), run))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if number == len(lines):
                logger.warning("%s: ignoring an incomplete last line (%s)", path, exc)
                continue
            raise GanzooError(
                f"{path} line {number} is not a run of ganzoo bench ({exc}); move the file "
                "aside or delete it (the bench retrains the runs its store lacks)"
            ) from None
    imported = 0
    for cell, run in found:
        if cell is None or store.get(cell.group, cell.key) is not None:
            continue
        point = {"iteration": task.budget}
        point.update((k, v) for k, v in run.items() if k not in NOT_METRICS)
        record = {"status": OK, "curve": [point], "final": point, "imported_from": str(path)}
        store.put(cell.group, cell.key, {**record, "seconds": run.get("seconds", 0.0)})
        imported += 1
    return imported

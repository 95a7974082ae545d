"""``ganzoo bench mode-collapse`` as a preset of the leaderboard: its settings become one task
scored at the end of its budget, run by :func:`ganzoo.leaderboard.runner.run_leaderboard` into
``OUT/store`` (after importing the old bench's matching ``OUT/runs.jsonl`` lines), and its
board printed as a text table and written as CSV."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.experiments import Cell as GridCell
from ganzoo.experiments import RecordStore
from ganzoo.experiments.executors import Executor
from ganzoo.experiments.store import OK
from ganzoo.leaderboard import mode_collapse
from ganzoo.leaderboard.mode_collapse import MixtureSettings, StackedSettings, run_mixture_benchmark
from ganzoo.leaderboard.runner import run_leaderboard
from ganzoo.leaderboard.tasks import TASKS, Task

# tests/ganzoo/test_same_numbers.py imports the mixture run from here, where the bench had it.
__all__ = ["MixtureSettings", "StackedSettings", "bench_task", "run_bench", "run_mixture_benchmark"]

logger = logging.getLogger(__name__)

STACKED = "stacked_mnist"
STORE_DIR = "store"
LEGACY_RUNS = "runs.jsonl"  # the bench before the grid: one JSON line per run
# A legacy line's fields that are not metrics: what ran (now the record's key), losses, time.
NOT_METRICS = ("task", "activation", "seed", "settings", "threads", "seconds")
NOT_METRICS += ("final_loss_d", "final_loss_g")


def bench_task(name: str, settings: MixtureSettings | StackedSettings) -> Task:
    """The bench's runs of ``name`` (a mixture, or ``stacked_mnist``) at ``settings``: a task
    whose budget is ``settings.iterations``, scored once, at the end."""
    fixed = asdict(settings)
    budget = fixed.pop("iterations")
    suite = TASKS[STACKED if name == STACKED else "ring8"]  # for its metrics and run function
    description = f"ganzoo bench mode-collapse on {name}"
    version = 1  # pinned: the bench's keys never follow a version bump of the suite's task
    return Task(name, version, description, budget, (budget,), suite.metrics, suite.run, fixed)


def run_bench(
    task: Task,
    activations: Sequence[tuple[str, Mapping[str, Any]]],
    seeds: Sequence[int],
    out: Path,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Run the cells of ``task`` that ``OUT/store`` lacks (old runs imported first); the board."""
    store = RecordStore(Path(out) / STORE_DIR)

    def prepare(cells: list[GridCell]) -> None:
        if imported := import_runs(Path(out) / LEGACY_RUNS, task, cells, store):
            logger.info("imported %d run(s) of %s into %s", imported, LEGACY_RUNS, store.root)
        if task.name == STACKED and any(store.get(c.group, c.key) is None for c in cells):
            # Trained and cached here once, rather than by every worker at the same time.
            _, accuracy = mode_collapse.digit_classifier()
            logger.info("digit classifier: %.2f%% held-out accuracy", 100 * accuracy)

    return run_leaderboard([task], activations, seeds, store, executor, prepare=prepare)[0]


def import_runs(path: Path, task: Task, cells: Sequence[GridCell], store: RecordStore) -> int:
    """Store the old bench's runs in ``path`` that are ``cells`` missing from ``store`` (see
    docs/experiments.md); returns how many. A line that is no run is one error, before anything
    is stored; a last line cut short (a killed run) is skipped."""
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
        point = {"iteration": task.budget, **{k: v for k, v in run.items() if k not in NOT_METRICS}}
        record = {"status": OK, "curve": [point], "final": point, "imported_from": str(path)}
        store.put(cell.group, cell.key, {**record, "seconds": run.get("seconds", 0.0)})
        imported += 1
    return imported


def _table(board: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (table,) = board["per_task"].values()
    return table["metrics"], table["rows"]


def format_text(board: dict[str, Any]) -> str:
    """One row per activation, best first: each metric's mean ± sample std over seeds at the
    end of the budget (the mean alone for one seed; ``(n=...)`` when some seeds have none)."""

    def cell(stats: dict[str, Any], seeds: int) -> str:
        if not stats["n"]:
            return "n/a"
        text = f"{stats['mean']:.4g}" + ("" if stats["std"] is None else f" ± {stats['std']:.2g}")
        return text if stats["n"] == seeds else f"{text} (n={stats['n']:.0f})"

    metrics, rows = _table(board)
    header = ["rank", "activation", "seeds"] + [m["label"] for m in metrics]
    body = [
        [f"{row['rank_final']['rank']:.1f}", row["activation"], str(row["seeds_ok"])]
        + [cell(row["metrics"][m["name"]]["final"], row["seeds_ok"]) for m in metrics]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *body]]
    return "\n".join(lines)


def format_csv(board: dict[str, Any]) -> str:
    """activation, seeds ok and failed, rank, then <metric>_mean/_std/_n/_low/_high (the 95%
    bootstrap interval of the mean), unformatted; a missing value is nan."""
    metrics, rows = _table(board)
    fields = ("mean", "std", "n", "low", "high")
    text = io.StringIO()
    writer = csv.writer(text)
    columns = ["activation", "seeds_ok", "seeds_failed", "rank"]
    writer.writerow(columns + [f"{m['name']}_{x}" for m in metrics for x in fields])
    for row in rows:
        values = [row["activation"], row["seeds_ok"], row["seeds_failed"]]
        values.append(row["rank_final"]["rank"])
        for m in metrics:
            stats = row["metrics"][m["name"]]["final"]
            values += [math.nan if stats[x] is None else stats[x] for x in fields]
            values[-3] = stats["n"] and int(stats["n"])  # a count (the board has floats)
        writer.writerow(values)
    return text.getvalue()

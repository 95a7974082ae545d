"""From stored cell records to the leaderboard: per-task tables, ranks and tests, as one
JSON-able dict (what ``leaderboard.json`` holds and the Markdown and figures are drawn from).

Each task is ranked twice on its ranking metric (the task's first): on the final value (the
end of its budget) and on the area under its curve (the mean level over its eval points), so
an activation that gets there early is told apart from one that gets there at the end. The
overall rank is the mean of the per-task ranks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from ganzoo.leaderboard.runner import OK
from ganzoo.leaderboard.tasks import Task
from ganzoo.report.aggregate import Comparison, adjust_comparisons, compare, describe, rank_table
from ganzoo.report.aggregate import finite_or_none as _clean

Records = Mapping[tuple[str, str, int], Mapping[str, Any]]  # (task, label, seed) -> record
VIEWS = ("final", "auc")


def seed_values(
    records: Records, task: Task, label: str, seeds: Sequence[int], metric: str, view: str
) -> dict[int, float]:
    """One number per successful seed: the metric at the end of the budget (``final``) or the
    area under its curve (``auc``)."""
    out: dict[int, float] = {}
    for seed, curve in _curves(records, task, label, seeds).items():
        values = [_number(point.get(metric)) for point in curve]
        if values and view == "final":
            out[seed] = values[-1]
        elif values:
            out[seed] = area_under_curve([int(p["iteration"]) for p in curve], values)
    return out


def _curves(
    records: Records, task: Task, label: str, seeds: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The curve of every successful seed of one (task, label)."""
    found = {seed: records.get((task.name, label, seed)) for seed in seeds}
    return {s: r.get("curve", []) for s, r in found.items() if r and r.get("status") == OK}


def build_board(
    tasks: Sequence[Task],
    labels: Sequence[str],
    seeds: Sequence[int],
    records: Records,
    baseline: str,
    version: str,
) -> dict[str, Any]:
    """The whole leaderboard as a dict (see the module docstring)."""
    primary = {  # view -> task -> label -> seed -> the ranking metric's value
        view: {
            task.name: {
                label: seed_values(records, task, label, seeds, task.primary.name, view)
                for label in labels
            }
            for task in tasks
        }
        for view in VIEWS
    }
    directions = {task.name: task.primary.higher_is_better for task in tasks}
    ranks = {view: rank_table(primary[view], directions) for view in VIEWS}
    per_task_tables = {}
    failed = []
    for task in tasks:
        versus: dict[str, dict[str, Comparison]] = {}  # view -> label -> against the baseline
        for view in VIEWS:
            values = primary[view][task.name]
            versus[view] = {
                label: compare(values[baseline], values[label], task.primary.higher_is_better)
                for label in labels
                if label != baseline and baseline in labels
            }
            adjust_comparisons(versus[view], f"{task.name}, {view}")
        rows = []
        for label in labels:
            row: dict[str, Any] = {"activation": label, "metrics": {}}
            outcomes = [records.get((task.name, label, seed)) for seed in seeds]
            row["seeds_ok"] = sum(1 for r in outcomes if r and r.get("status") == OK)
            row["seeds_failed"] = sum(1 for r in outcomes if r and r.get("status") != OK)
            for seed, record in zip(seeds, outcomes):
                if record and record.get("status") != OK:
                    failed.append(
                        {
                            "task": task.name,
                            "activation": label,
                            "seed": seed,
                            "error": record.get("error", "unknown error"),
                        }
                    )
            for metric in task.metrics:
                entry = {}
                for view in VIEWS:
                    values = seed_values(records, task, label, seeds, metric.name, view)
                    entry[view] = _stats(describe(values))
                entry["curve"] = _mean_curve(records, task, label, seeds, metric.name)
                row["metrics"][metric.name] = entry
            for view in VIEWS:
                row[f"rank_{view}"] = asdict(ranks[view][0][task.name][label])
                if label in versus[view]:
                    row[f"vs_baseline_{view}"] = _versus_json(versus[view][label])
            rows.append(row)
        rows.sort(key=lambda r: (r["rank_final"]["rank"], r["activation"]))
        per_task_tables[task.name] = {
            "version": task.version,
            "description": task.description,
            "budget": task.budget,
            "eval_points": list(task.eval_points),
            "ranked_by": task.primary.name,
            "higher_is_better": task.primary.higher_is_better,
            "metrics": [
                {"name": m.name, "label": m.label, "higher_is_better": m.higher_is_better}
                for m in task.metrics
            ],
            "rows": rows,
        }
    overall = {}
    for view in VIEWS:
        entries = [
            {"activation": label, **asdict(interval)} for label, interval in ranks[view][1].items()
        ]
        entries.sort(key=lambda e: (e["rank"], e["activation"]))
        overall[view] = entries
    return {
        "ganzoo_version": version,
        "seeds": list(seeds),
        "baseline": baseline if baseline in labels else None,
        "activations": list(labels),
        "tasks": [task.name for task in tasks],
        "overall": overall,
        "per_task": per_task_tables,
        "failed": failed,
    }


def area_under_curve(iterations: Sequence[int], values: Sequence[float]) -> float:
    """The curve's mean level between its first and last point (trapezoid rule divided by the
    span), in the metric's own units; the value itself for one point, nan if any is nan."""
    x = np.asarray(iterations, dtype=float)
    y = np.asarray(values, dtype=float)
    if y.size == 0 or not np.all(np.isfinite(y)):
        return math.nan
    if y.size == 1 or x[-1] == x[0]:
        return float(y[-1])
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))) / float(x[-1] - x[0])


def _versus_json(comparison: Comparison) -> dict[str, Any]:
    """A label against the baseline as leaderboard.json holds it."""
    test, welch = comparison.paired, comparison.welch
    paired, welch_adjusted = comparison.adjusted["paired"], comparison.adjusted["welch"]
    return {
        "pairs": test.n,
        "mean_difference": _clean(test.mean_difference),
        "t_p": _clean(test.t_p),
        "wilcoxon_p": _clean(test.wilcoxon_p),
        "better": comparison.better,
        "beyond_seed_noise": comparison.beyond_noise,  # both tests below 0.05 after Holm
        "note": test.note,
        "ci95_paired": [_clean(test.low), _clean(test.high)],
        "welch_p": _clean(welch.p),
        "welch_ci95": [_clean(welch.low), _clean(welch.high)],
        "family": {"name": paired.family, "size": paired.family_size},
        "t_p_holm": _clean(paired.holm),
        "t_p_bh": _clean(paired.bh),
        "welch_p_holm": _clean(welch_adjusted.holm),
        "welch_p_bh": _clean(welch_adjusted.bh),
    }


def _mean_curve(
    records: Records, task: Task, label: str, seeds: Sequence[int], metric: str
) -> list[dict[str, float]]:
    """Mean and std over successful seeds at each eval point."""
    curves = _curves(records, task, label, seeds)
    out = []
    for iteration in task.eval_points:
        at = {
            s: p.get(metric)
            for s, c in curves.items()
            for p in c
            if int(p["iteration"]) == iteration
        }
        stats = describe(at)
        out.append({"iteration": iteration, "mean": _clean(stats.mean), "std": _clean(stats.std)})
    return out


def _stats(stats: Any) -> dict[str, Any]:
    return {k: _clean(v) for k, v in asdict(stats).items()}


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)

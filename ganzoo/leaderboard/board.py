"""From stored cell records to the leaderboard as one JSON-able dict (``leaderboard.json``, which
its Markdown and figures draw from): each task ranked on its first metric at the end of its
budget (final) and by the area under its curve (AUC); overall, the mean rank over tasks."""

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


def seed_values(curves: Mapping[int, list[dict[str, Any]]], metric: str, view: str) -> dict:
    """Per seed (``curves``: seed -> curve) the metric's last value (``final``) or the area under
    its curve (``auc``); None or nan, which the statistics leave out, where it has none."""
    out: dict[int, float | None] = {}
    for seed, curve in curves.items():
        values = [_clean(p.get(metric)) for p in curve]
        if values and view == "final":
            out[seed] = values[-1]
        elif values:
            out[seed] = area_under_curve([int(p["iteration"]) for p in curve], values)
    return out


def build_board(
    tasks: Sequence[Task],
    labels: Sequence[str],
    seeds: Sequence[int],
    records: Records,
    baseline: str,
    version: str,
) -> dict[str, Any]:
    """The whole leaderboard as a dict (see the module docstring)."""
    by_cell = {
        (t.name, label): {s: records.get((t.name, label, s)) for s in seeds}
        for t in tasks
        for label in labels
    }
    curves = {  # (task, label) -> seed -> curve, of the successful seeds
        cell: {s: r.get("curve", []) for s, r in found.items() if r and r.get("status") == OK}
        for cell, found in by_cell.items()
    }
    primary = {  # view -> task -> label -> seed -> the ranking metric's value
        view: {
            t.name: {
                label: seed_values(curves[t.name, label], t.primary.name, view) for label in labels
            }
            for t in tasks
        }
        for view in VIEWS
    }
    directions = {task.name: task.primary.higher_is_better for task in tasks}
    ranks = {view: rank_table(primary[view], directions) for view in VIEWS}
    others = [label for label in labels if label != baseline] if baseline in labels else []
    per_task_tables, failed = {}, []
    for task in tasks:
        higher = task.primary.higher_is_better
        versus: dict[str, dict[str, Comparison]] = {}  # view -> label -> against the baseline
        for view in VIEWS:
            values = primary[view][task.name]
            versus[view] = {a: compare(values[baseline], values[a], higher) for a in others}
            adjust_comparisons(versus[view], f"{task.name}, {view}")
        rows = []
        for label in labels:
            bad = {s: r for s, r in by_cell[task.name, label].items() if r and r["status"] != OK}
            for s, r in bad.items():
                error = r.get("error", "unknown error")
                failed.append({"task": task.name, "activation": label, "seed": s, "error": error})
            mine = curves[task.name, label]
            row: dict[str, Any] = {"activation": label, "metrics": {}, "seeds_ok": len(mine)}
            row["seeds_failed"] = len(bad)
            for metric in task.metrics:
                entry = {v: _stats(describe(seed_values(mine, metric.name, v))) for v in VIEWS}
                entry["curve"] = _mean_curve(mine, task.eval_points, metric.name)
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
        entries = [{"activation": label, **asdict(i)} for label, i in ranks[view][1].items()]
        overall[view] = sorted(entries, key=lambda e: (e["rank"], e["activation"]))
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


def area_under_curve(iterations: Sequence[int], values: Sequence[float | None]) -> float:
    """The curve's mean level between its first and last point (trapezoid rule divided by the
    span), in the metric's own units; the value itself for one point, nan if any is missing."""
    x, y = np.asarray(iterations, dtype=float), np.asarray(values, dtype=float)
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
    curves: Mapping[int, list[dict[str, Any]]], eval_points: Sequence[int], metric: str
) -> list[dict[str, float]]:
    """Mean and std over successful seeds at each eval point."""
    by_seed = {s: {int(p["iteration"]): p.get(metric) for p in c} for s, c in curves.items()}
    stats = [(i, describe({s: v.get(i) for s, v in by_seed.items()})) for i in eval_points]
    return [{"iteration": i, "mean": _clean(d.mean), "std": _clean(d.std)} for i, d in stats]


def _stats(stats: Any) -> dict[str, Any]:
    return {k: _clean(v) for k, v in asdict(stats).items()}

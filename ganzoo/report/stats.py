"""The study report's table: runs grouped by what varies, one summary value per run and metric,
each metric aggregated per group and tested against the baseline (:mod:`.aggregate`), p-values
adjusted within a family (:func:`comparison_family`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from evaluation.metrics import REPORT_KEYS
from ganzoo.config import flatten
from ganzoo.errors import ConfigError
from ganzoo.report.aggregate import (
    Comparison,
    Describe,
    adjust_comparisons,
    compare,
    describe,
    finite,
)
from ganzoo.report.aggregate import direction as metric_direction
from ganzoo.report.runs import RunData

# Config keys that never define a group: the seed is what a study repeats; the rest is
# bookkeeping that does not change the experiment.
IGNORED_KEYS = ("seed", "name", "train.progress", "train.device", "data.num_workers", "data.root")

EVAL_METRICS = REPORT_KEYS  # the metric table's keys shown in reports


@dataclass
class Group:
    label: str
    runs: list[RunData] = field(default_factory=list)


def varied_keys(runs: Sequence[RunData]) -> list[str]:
    """Config keys (dotted) whose values differ between runs, except seeds and bookkeeping."""
    flat = [flatten(r.config) for r in runs]
    ignored = tuple(k + "." for k in IGNORED_KEYS)  # a key or anything under it
    return [
        key
        for key in sorted({k for f in flat for k in f})
        if not (key + ".").startswith(ignored)
        and len({repr(f.get(key, "<unset>")) for f in flat}) > 1
    ]


def group_runs(runs: Sequence[RunData], by: Sequence[str] | None = None) -> list[Group]:
    """Runs grouped by the given config keys, a study's factors, or the keys that vary.

    Keys that split the runs the same way (generator.activation and discriminator.activation
    swapped together) are tied, and each tie is labelled by one key: the one ending in
    ``activation`` first, then the shortest. A single tie is labelled by its values alone.
    """
    if by is None and all(r.levels for r in runs):
        factors = list(runs[0].levels)
        if all(list(r.levels) == factors for r in runs):
            return _make_groups(runs, ["__".join(r.levels[f] for f in factors) for r in runs])
    keys = list(by) if by else varied_keys(runs)
    if not keys:
        return [Group("all", list(runs))]
    flat = [flatten(r.config) for r in runs]
    unknown = [k for k in keys if not any(k in f for f in flat)]
    if unknown:
        varying = varied_keys(runs)
        raise ConfigError(
            f"--group-by {', '.join(unknown)}: no run has this config key. Keys that differ "
            f"between the runs: {', '.join(varying) if varying else 'none (one group)'}"
        )
    ties: dict[tuple, list[str]] = {}  # a split of the runs -> the keys that split them so
    for key in keys:
        values = [repr(f.get(key, "<unset>")) for f in flat]
        ties.setdefault(tuple(map(values.index, values)), []).append(key)
    names = [min(t, key=lambda k: (not k.endswith("activation"), len(k), k)) for t in ties.values()]
    single = len(names) == 1
    labels = [
        ", ".join(str(f.get(k, "unset")) if single else f"{k}={f.get(k)}" for k in names)
        for f in flat
    ]
    return _make_groups(runs, labels)


def _make_groups(runs: Sequence[RunData], labels: Sequence[str]) -> list[Group]:
    groups: dict[str, Group] = {}
    for run, label in zip(runs, labels):
        groups.setdefault(label, Group(label)).runs.append(run)
    return list(groups.values())


def run_summary(run: RunData, last_k: int | None = None) -> dict[str, float]:
    """One number per metric for a run, keyed by its summary row's name (``last_k``: also the
    mean of the last k periodic evaluations)."""
    out: dict[str, float] = {}
    if run.train:
        last = run.train[-1]
        out["last logged iteration"] = float(last["iteration"])
        averages = ("avg_loss_d", "avg_loss_g", "avg_d_real", "avg_d_fake")
        for key, value in finite({k: last.get(k) for k in averages}).items():
            out[f"final {key[4:]} (running avg)"] = value
        for key in run.parameter_keys():
            values = run.series(key)[1]
            if values:
                out[f"final {key}"] = values[-1]
    if run.evals:
        for key, value in finite({k: run.evals[-1].get(k) for k in EVAL_METRICS}).items():
            out[f"{key} (last periodic eval)"] = value
        if last_k:
            for key in EVAL_METRICS:
                values = list(finite([e.get(key) for e in run.evals[-last_k:]]).values())
                if len(values) == min(last_k, len(run.evals)):
                    out[f"{key} (mean of last {last_k} periodic evals)"] = float(np.mean(values))
        fids = list(finite([e.get("fid") for e in run.evals]).values())
        if len(fids) > 1:
            out["fid (best periodic eval)"] = min(fids)
    for suite, data in run.eval_files.items():
        metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else data
        for key, value in finite({k: metrics.get(k) for k in EVAL_METRICS}).items():
            out[f"{key} (eval {suite})"] = value
    collapse = first_collapse(run)
    if collapse is not None:
        out["collapse iteration"] = float(collapse)
    return out


def first_collapse(run: RunData) -> int | None:
    iterations = [
        c["collapse"].get("iteration") or c["iteration"]
        for c in run.collapses
        if c["collapse"].get("collapsed", True)
    ]
    return min(int(i) for i in iterations) if iterations else None


@dataclass
class SummaryRow:
    metric: str
    groups: dict[str, Describe]
    # other group label -> its comparison with the baseline (adjusted when in a family)
    comparisons: dict[str, Comparison] = field(default_factory=dict)

    @property
    def direction(self) -> str | None:
        """The metric's direction ("lower"/"higher") from the registry; None for diagnostics."""
        return metric_direction(self.metric.split(" (")[0].removeprefix("final "))


def comparison_family(metric: str) -> str | None:
    """The family a summary row's tests are adjusted in: every quality metric at one
    evaluation point (``fid (last periodic eval)``, ``recall (eval final)``...), across every
    group compared with the baseline. None for rows that claim nothing: training diagnostics,
    spreads (kid_std), activation parameters, and the minimum over training (``best``), which
    is biased towards the noisiest runs and never a headline."""
    head, _, point = metric.partition(" (")
    point = point.rstrip(")")
    if not point or metric_direction(head) is None or point.startswith("best"):
        return None
    return point


def summary_table(
    groups: Sequence[Group], baseline: str | None = None, last_k: int | None = None
) -> list[SummaryRow]:
    """Per metric: each group described and compared with the baseline (the first group
    unless named), p-values adjusted per :func:`comparison_family`. ``last_k``: also summarize
    each run by the mean of its last k periodic evaluations."""
    summaries = {g.label: [(r.seed, run_summary(r, last_k=last_k)) for r in g.runs] for g in groups}
    base = baseline or groups[0].label
    if base not in summaries:
        raise ValueError(f"baseline group {base!r} is not one of {list(summaries)}")
    metrics = dict.fromkeys(
        key for rows in summaries.values() for _, values in rows for key in values
    )
    table = []
    families: dict[str, dict[tuple[int, str], Comparison]] = {}
    for metric in metrics:
        per_group = {
            label: {seed: v[metric] for seed, v in rows if metric in v}
            for label, rows in summaries.items()
        }
        row = SummaryRow(metric, {label: describe(v) for label, v in per_group.items()})
        higher = None if row.direction is None else row.direction == "higher"
        for label, values in per_group.items():
            if label != base and values and per_group[base]:
                row.comparisons[label] = compare(per_group[base], values, higher)
        family = comparison_family(metric)
        if family is not None:
            for label, comparison in row.comparisons.items():
                families.setdefault(family, {})[(len(table), label)] = comparison
        table.append(row)
    for family, comparisons in families.items():
        adjust_comparisons(comparisons, family)
    return table

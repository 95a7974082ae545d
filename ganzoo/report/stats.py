"""Grouping runs by what varies, per-run summary values, and the tests between groups.

Each comparison of a group with the baseline gets its effect size (the mean difference with a
95% t-interval), the paired t-test (pairs by seed) beside Welch's unequal-variance t-test (no
pairing: seeds of different activations need not be correlated), and p-values adjusted within a
family of comparisons with Holm (family-wise error) and Benjamini-Hochberg (false discovery
rate). A difference is called beyond noise only on an adjusted p-value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.metrics import HIGHER_IS_BETTER as HIGHER_METRICS
from evaluation.metrics import LOWER_IS_BETTER as LOWER_METRICS
from evaluation.metrics import REPORT_KEYS
from ganzoo.report.runs import RunData

# Config keys that never define a group: the seed is what a study repeats; the rest is
# bookkeeping that does not change the experiment.
IGNORED_KEYS = ("seed", "name", "train.progress", "train.device", "data.num_workers", "data.root")

# Metrics where lower is better (for the table's wording only).
LOWER_IS_BETTER = LOWER_METRICS | {"loss_d", "loss_g"}

EVAL_METRICS = REPORT_KEYS  # the metric table's keys shown in reports
# The metrics a claim can rest on (a direction, not a spread such as kid_std).
HEADLINE_METRICS = LOWER_METRICS | HIGHER_METRICS

CONFIDENCE = 0.95  # of every interval
ALPHA = 1 - CONFIDENCE  # two-sided level of "beyond noise" (on adjusted p-values)

# Below this many pairs the Wilcoxon signed-rank test cannot reach p < 0.05 (two-sided: the
# smallest exact p-value is 2 / 2**n).
WILCOXON_MIN_PAIRS = 6


@dataclass
class Group:
    label: str
    runs: list[RunData] = field(default_factory=list)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def varied_keys(runs: Sequence[RunData]) -> list[str]:
    """Config keys (dotted) whose values differ between runs, except seeds and bookkeeping."""
    flat = [flatten(r.config) for r in runs]
    keys = sorted({k for f in flat for k in f})
    out = []
    for key in keys:
        if key in IGNORED_KEYS or any(key.startswith(k + ".") for k in IGNORED_KEYS):
            continue
        values = {repr(f.get(key, "<unset>")) for f in flat}
        if len(values) > 1:
            out.append(key)
    return out


def group_runs(runs: Sequence[RunData], by: Sequence[str] | None = None) -> list[Group]:
    """Runs grouped by the given config keys, a study's factors, or the keys that vary.

    Keys that split the runs the same way (generator.activation and discriminator.activation
    swapped together) are tied, and each tie is labelled by one key: the one ending in
    ``activation`` first, then the shortest. A single tie is labelled by its values alone.
    """
    if by is None and all(r.levels for r in runs):
        factor_names = list(runs[0].levels)
        if all(list(r.levels) == factor_names for r in runs):
            return _make_groups(runs, lambda r: "__".join(r.levels[f] for f in factor_names))
    keys = list(by) if by else varied_keys(runs)
    if not keys:
        return [Group("all", list(runs))]
    flat = [flatten(r.config) for r in runs]
    unknown = [k for k in keys if not any(k in f for f in flat)]
    if unknown:
        from ganzoo.errors import ConfigError

        varying = varied_keys(runs)
        raise ConfigError(
            f"--group-by {', '.join(unknown)}: no run has this config key. Keys that differ "
            f"between the runs: {', '.join(varying) if varying else 'none (one group)'}"
        )
    ties: dict[tuple, list[str]] = {}
    for key in keys:
        partition = _partition([repr(f.get(key, "<unset>")) for f in flat])
        ties.setdefault(partition, []).append(key)
    representatives = [
        sorted(tied, key=lambda k: (not k.endswith("activation"), len(k), k))[0]
        for tied in ties.values()
    ]
    single = len(representatives) == 1

    def label(run: RunData) -> str:
        f = flatten(run.config)
        parts = [
            _text(f.get(k, "unset")) if single else f"{k}={_text(f.get(k))}"
            for k in representatives
        ]
        return ", ".join(parts)

    return _make_groups(runs, label)


def _make_groups(runs: Sequence[RunData], label) -> list[Group]:
    groups: dict[str, Group] = {}
    for run in runs:
        name = label(run)
        groups.setdefault(name, Group(name)).runs.append(run)
    return list(groups.values())


def _partition(values: list[str]) -> tuple:
    first: dict[str, int] = {}
    return tuple(first.setdefault(v, len(first)) for v in values)


def _text(value: Any) -> str:
    return str(value)


# -- per-run summary values -------------------------------------------------------------------


def run_summary(run: RunData, last_k: int | None = None) -> dict[str, float]:
    """One number per metric for a run: the last logged training values, the last periodic
    evaluation (and with ``last_k`` the mean of the last k), the lowest FID seen (a minimum
    over noisy values: descriptive, never a headline), each eval JSON's metrics (e.g. the
    ``final`` protocol's), learnable activation parameters, and the first collapse iteration
    (when a collapse was flagged)."""
    out: dict[str, float] = {}
    if run.train:
        last = run.train[-1]
        out["last logged iteration"] = float(last["iteration"])
        for key in ("avg_loss_d", "avg_loss_g", "avg_d_real", "avg_d_fake"):
            if _finite(last.get(key)):
                out[f"final {key[4:]} (running avg)"] = float(last[key])
        for key in run.parameter_keys():
            values = run.series(key)[1]
            if values:
                out[f"final {key}"] = values[-1]
    if run.evals:
        last = run.evals[-1]
        for key in EVAL_METRICS:
            if _finite(last.get(key)):
                out[f"{key} (last periodic eval)"] = float(last[key])
        if last_k:
            for key in EVAL_METRICS:
                values = [float(e[key]) for e in run.evals[-last_k:] if _finite(e.get(key))]
                if len(values) == min(last_k, len(run.evals)):
                    out[f"{key} (mean of last {last_k} periodic evals)"] = float(np.mean(values))
        fids = [float(e["fid"]) for e in run.evals if _finite(e.get("fid"))]
        if len(fids) > 1:
            out["fid (best periodic eval)"] = min(fids)
    for suite, data in run.eval_files.items():
        metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else data
        for key in EVAL_METRICS:
            if _finite(metrics.get(key)):
                out[f"{key} (eval {suite})"] = float(metrics[key])
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


# -- statistics -------------------------------------------------------------------------------


@dataclass
class Describe:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); nan when n < 2


def describe(values: Sequence[float]) -> Describe:
    array = np.asarray(values, dtype=float)
    n = int(array.size)
    if n == 0:
        return Describe(0, math.nan, math.nan)
    std = float(np.std(array, ddof=1)) if n > 1 else math.nan
    return Describe(n, float(np.mean(array)), std)


@dataclass
class PairedTest:
    n: int  # pairs (same seed in both groups)
    mean_difference: float  # other - baseline
    t_p: float  # scipy.stats.ttest_rel two-sided p; nan when it cannot be computed
    wilcoxon_p: float
    note: str = ""
    low: float = math.nan  # 95% t-interval of the mean paired difference
    high: float = math.nan


def paired_test(baseline: dict[int, float], other: dict[int, float]) -> PairedTest:
    """Paired by seed: t-test and Wilcoxon signed-rank on (other - baseline)."""
    from scipy import stats

    seeds = sorted(set(baseline) & set(other))
    a = np.array([baseline[s] for s in seeds], dtype=float)
    b = np.array([other[s] for s in seeds], dtype=float)
    n = len(seeds)
    if n == 0:
        return PairedTest(0, math.nan, math.nan, math.nan, "no seed in both groups")
    differences = b - a
    diff = float(np.mean(differences))
    if n < 2:
        return PairedTest(n, diff, math.nan, math.nan, "n too small for a test (needs 2 pairs)")
    notes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_p = float(stats.ttest_rel(b, a).pvalue)
        if np.ptp(differences) == 0 and np.any(differences != 0):
            # Every pair differs by the same amount (common with counts such as modes): the
            # differences have no spread, so the t statistic is infinite and p would read 0,
            # a certainty three seeds cannot give.
            t_p = math.nan
            notes.append("every pair differs by the same amount: no t-test (zero spread)")
        if np.all(differences == 0):
            w_p = math.nan
            notes.append("all differences are 0")
        else:
            try:
                w_p = float(stats.wilcoxon(b, a).pvalue)
            except ValueError as exc:
                w_p = math.nan
                notes.append(f"Wilcoxon: {exc}")
    if n < WILCOXON_MIN_PAIRS:
        notes.append(f"n={n}: Wilcoxon cannot reach p<0.05 (needs {WILCOXON_MIN_PAIRS} pairs)")
    if n < 5:
        notes.append("few pairs: treat p as indicative")
    low, high = paired_interval(differences)
    return PairedTest(n, diff, t_p, w_p, "; ".join(notes), low, high)


def paired_interval(
    differences: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """t-interval of the mean of paired ``differences``: mean +- t(n-1) * sd / sqrt(n);
    (nan, nan) below 2 differences."""
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, d.size - 1) * np.std(d, ddof=1) / math.sqrt(d.size)
    mean = float(np.mean(d))
    return mean - float(half), mean + float(half)


@dataclass
class WelchTest:
    """``other`` against ``baseline`` as two independent samples (no pairing)."""

    n_baseline: int
    n_other: int
    mean_difference: float  # mean(other) - mean(baseline)
    low: float  # 95% Welch t-interval of the difference
    high: float
    df: float  # Welch-Satterthwaite degrees of freedom
    p: float  # two-sided; scipy.stats.ttest_ind(other, baseline, equal_var=False)
    note: str = ""


def welch_test(
    baseline: Sequence[float] | dict[int, float],
    other: Sequence[float] | dict[int, float],
    confidence: float = CONFIDENCE,
) -> WelchTest:
    """Welch's t-test and t-interval of mean(other) - mean(baseline); nan where a group has
    fewer than 2 values or both have no spread."""
    from scipy import stats

    a = np.asarray(list(baseline.values()) if isinstance(baseline, dict) else baseline, float)
    b = np.asarray(list(other.values()) if isinstance(other, dict) else other, float)
    diff = float(np.mean(b) - np.mean(a)) if a.size and b.size else math.nan
    if a.size < 2 or b.size < 2:
        return WelchTest(
            a.size, b.size, diff, math.nan, math.nan, math.nan, math.nan, "needs 2 per group"
        )
    va, vb = np.var(a, ddof=1) / a.size, np.var(b, ddof=1) / b.size
    if va + vb == 0:
        note = "no spread in either group: no Welch test"
        return WelchTest(a.size, b.size, diff, math.nan, math.nan, math.nan, math.nan, note)
    df = float((va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(va + vb))
    p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return WelchTest(a.size, b.size, diff, diff - half, diff + half, df, p)


# -- multiple comparisons ---------------------------------------------------------------------


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order.

    p_(i) sorted ascending gets max_{j<=i} min(1, (m - j + 1) p_(j)); nan stays nan and is not
    counted in the family size m.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    index = np.flatnonzero(np.isfinite(p))
    m = index.size
    if m == 0:
        return out.tolist()
    order = index[np.argsort(p[index], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out.tolist()


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order.

    p_(i) sorted ascending gets min_{j>=i} min(1, m p_(j) / j); nan stays nan and is not
    counted in m.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    index = np.flatnonzero(np.isfinite(p))
    m = index.size
    if m == 0:
        return out.tolist()
    order = index[np.argsort(p[index], kind="stable")]
    scaled = m * p[order] / np.arange(1, m + 1)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out.tolist()


@dataclass(frozen=True)
class Adjusted:
    """One p-value adjusted within its family."""

    family: str
    family_size: int  # tests with a p-value in the family
    holm: float
    bh: float


def adjust_family(pvalues: dict[Any, float], family: str) -> dict[Any, Adjusted]:
    """Holm and Benjamini-Hochberg adjustments of every p-value in one family (nan: untested,
    left out of the family's size)."""
    keys = list(pvalues)
    raw = [pvalues[k] for k in keys]
    size = int(np.sum(np.isfinite(np.asarray(raw, dtype=float)))) if raw else 0
    return {
        k: Adjusted(family, size, h, b) for k, h, b in zip(keys, holm(raw), benjamini_hochberg(raw))
    }


def beyond_noise(adjusted: Adjusted | None, alpha: float = ALPHA) -> bool:
    """Whether a difference survives Holm's adjustment at ``alpha`` (the marks' rule)."""
    return adjusted is not None and math.isfinite(adjusted.holm) and adjusted.holm < alpha


@dataclass
class SummaryRow:
    metric: str
    groups: dict[str, Describe]
    tests: dict[str, PairedTest]  # other group label -> test against the baseline
    welch: dict[str, WelchTest] = field(default_factory=dict)  # same keys as ``tests``
    # other group label -> {"paired": Adjusted, "welch": Adjusted}; empty outside a family
    adjusted: dict[str, dict[str, Adjusted]] = field(default_factory=dict)

    def beyond_noise(self, other: str) -> bool:
        """Both the paired and Welch's test survive Holm within the row's family."""
        both = self.adjusted.get(other, {})
        return beyond_noise(both.get("paired")) and beyond_noise(both.get("welch"))


def comparison_family(metric: str) -> str | None:
    """The family a summary row's tests are adjusted in: every quality metric at one
    evaluation point (``fid (last periodic eval)``, ``recall (eval final)``...), across every
    group compared with the baseline. None for rows that claim nothing: training diagnostics,
    spreads (kid_std), activation parameters, and the minimum over training (``best``), which
    is biased towards the noisiest runs and never a headline."""
    head, _, point = metric.partition(" (")
    point = point.rstrip(")")
    if not point or head not in HEADLINE_METRICS or point.startswith("best"):
        return None
    return point


def summary_table(
    groups: Sequence[Group], baseline: str | None = None, last_k: int | None = None
) -> list[SummaryRow]:
    """Per metric: mean +- std per group and each group's paired and Welch tests against the
    baseline (the first group unless named), with p-values adjusted per :func:`comparison_family`.
    ``last_k``: also summarize each run by the mean of its last k periodic evaluations."""
    summaries = {g.label: [(r.seed, run_summary(r, last_k=last_k)) for r in g.runs] for g in groups}
    base = baseline or groups[0].label
    if base not in summaries:
        raise ValueError(f"baseline group {base!r} is not one of {list(summaries)}")
    metrics: dict[str, None] = {}
    for rows in summaries.values():
        for _, values in rows:
            for key in values:
                metrics[key] = None
    table = []
    for metric in metrics:
        per_group = {
            label: {seed: v[metric] for seed, v in rows if metric in v}
            for label, rows in summaries.items()
        }
        described = {label: describe(list(values.values())) for label, values in per_group.items()}
        tests = {
            label: paired_test(per_group[base], values)
            for label, values in per_group.items()
            if label != base and values and per_group[base]
        }
        welch = {label: welch_test(per_group[base], per_group[label]) for label in tests}
        table.append(SummaryRow(metric, described, tests, welch))
    adjust_table(table)
    return table


def adjust_table(table: Sequence[SummaryRow]) -> None:
    """Fill each row's ``adjusted``: Holm and BH within its :func:`comparison_family`,
    separately for the paired and the Welch p-values."""
    families: dict[str, list[SummaryRow]] = {}
    for row in table:
        family = comparison_family(row.metric)
        if family is not None:
            families.setdefault(family, []).append(row)
    for family, rows in families.items():
        for kind in ("paired", "welch"):
            raw = {
                (i, label): (test.t_p if kind == "paired" else row.welch[label].p)
                for i, row in enumerate(rows)
                for label, test in row.tests.items()
            }
            for (i, label), adjusted in adjust_family(raw, family).items():
                rows[i].adjusted.setdefault(label, {})[kind] = adjusted


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

"""The one aggregator of the study report and the leaderboard, values by seed in: n, mean,
sample std and bootstrap interval (:func:`describe`), a variant against the baseline, paired and
Welch (:func:`compare`), Holm and Benjamini-Hochberg within a family (:func:`adjust_comparisons`),
and ranks with bootstrap intervals (:func:`rank_table`). docs/experiments.md says why."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from evaluation import metric_direction
from evaluation.errors import RegistryError

ALPHA = 0.05  # two-sided level of "beyond noise" (on adjusted p-values)
CONFIDENCE = 1 - ALPHA  # of every interval
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0  # a fixed generator: the same values give the same intervals
# Below this many pairs the Wilcoxon signed-rank test cannot reach p < 0.05 (two-sided: the
# smallest exact p-value is 2 / 2**n).
WILCOXON_MIN_PAIRS = 6

Values = Sequence[float] | Mapping[int, float]  # plain values, or seed -> value


def finite(values: Values) -> dict[Any, float]:
    """The finite numbers of ``values`` (a mapping keeps its keys; a sequence is numbered)."""
    items = values.items() if isinstance(values, Mapping) else enumerate(values)
    return {k: float(v) for k, v in items if is_number(v) and math.isfinite(v)}


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN: None stands for "no value"."""
    return float(value) if is_number(value) and math.isfinite(value) else None


def direction(key: str) -> str | None:
    """``"lower"`` or ``"higher"``: which way a result key is better, from the metric registry
    (plugins included); None for a number with no direction (a spread, a loss, an unknown)."""
    try:
        return metric_direction(key)
    except RegistryError:
        return None


@dataclass(frozen=True)
class Describe:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN below 2 values
    low: float = math.nan  # 95% percentile bootstrap interval of the mean
    high: float = math.nan


def describe(values: Values) -> Describe:
    """n, mean, std and bootstrap interval of the finite values (NaN and None are left out)."""
    data = list(finite(values).values())
    if not data:
        return Describe(0, math.nan, math.nan)
    std = float(np.std(data, ddof=1)) if len(data) > 1 else math.nan
    return Describe(len(data), float(np.mean(data)), std, *bootstrap_interval(data))


def bootstrap_interval(values: Sequence[float]) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (values resampled with replacement, a fixed
    generator); (nan, nan) without values, the value itself for one."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = array[rng.integers(0, array.size, (BOOTSTRAP_SAMPLES, array.size))].mean(axis=1)
    low, high = np.quantile(means, [ALPHA / 2, 1 - ALPHA / 2])
    return float(low), float(high)


@dataclass
class PairedTest:
    n: int  # pairs (same seed in both groups)
    mean_difference: float  # other - baseline
    t_p: float  # scipy.stats.ttest_rel two-sided p; nan when it cannot be computed
    wilcoxon_p: float
    note: str = ""
    low: float = math.nan  # 95% t-interval of the mean paired difference
    high: float = math.nan


def paired_test(baseline: Mapping[int, float], other: Mapping[int, float]) -> PairedTest:
    """Paired by seed: t-test and Wilcoxon signed-rank on (other - baseline)."""
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
    with warnings.catch_warnings(action="ignore"):
        t_p = float(stats.ttest_rel(b, a).pvalue)
        if np.ptp(differences) == 0 and np.any(differences != 0):
            # Every pair differs by the same amount (common with counts such as modes): the
            # differences have no spread, so the t statistic is infinite and p would read 0,
            # a certainty three seeds cannot give.
            t_p = math.nan
            notes.append("every pair differs by the same amount: no t-test (zero spread)")
        w_p = math.nan
        if np.all(differences == 0):
            notes.append("all differences are 0")
        else:
            try:
                w_p = float(stats.wilcoxon(b, a).pvalue)
            except ValueError as exc:
                notes.append(f"Wilcoxon: {exc}")
    if n < WILCOXON_MIN_PAIRS:
        notes.append(f"n={n}: Wilcoxon cannot reach p<0.05 (needs {WILCOXON_MIN_PAIRS} pairs)")
    if n < 5:
        notes.append("few pairs: treat p as indicative")
    low, high = paired_interval(differences)
    return PairedTest(n, diff, t_p, w_p, "; ".join(notes), low, high)


def paired_interval(differences: Sequence[float]) -> tuple[float, float]:
    """95% t-interval of the mean of paired ``differences``; (nan, nan) below 2 of them."""
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, d.size - 1) * np.std(d, ddof=1) / math.sqrt(d.size)
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


def welch_test(baseline: Values, other: Values) -> WelchTest:
    """Welch's t-test and t-interval of mean(other) - mean(baseline); nan where a group has
    fewer than 2 values or both have no spread."""
    a = np.asarray(list(baseline.values()) if isinstance(baseline, Mapping) else baseline, float)
    b = np.asarray(list(other.values()) if isinstance(other, Mapping) else other, float)
    diff = float(np.mean(b) - np.mean(a)) if a.size and b.size else math.nan
    va = np.var(a, ddof=1) / a.size if a.size > 1 else math.nan
    vb = np.var(b, ddof=1) / b.size if b.size > 1 else math.nan
    if a.size < 2 or b.size < 2 or va + vb == 0:
        small = a.size < 2 or b.size < 2
        note = "needs 2 per group" if small else "no spread in either group: no Welch test"
        return WelchTest(a.size, b.size, diff, *[math.nan] * 4, note)
    df = float((va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df) * math.sqrt(va + vb))
    with warnings.catch_warnings(action="ignore"):  # nearly equal values: a precision warning
        p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return WelchTest(a.size, b.size, diff, diff - half, diff + half, df, p)


@dataclass(frozen=True)
class Adjusted:
    """One p-value adjusted within its family."""

    family: str
    family_size: int  # tests with a p-value in the family
    holm: float
    bh: float


@dataclass
class Comparison:
    """A variant against the baseline over seeds: the paired and Welch's tests, and (once its
    family is known, :func:`adjust_comparisons`) their adjusted p-values."""

    paired: PairedTest
    welch: WelchTest
    higher_is_better: bool | None = None  # None: the metric has no direction
    adjusted: dict[str, Adjusted] = field(default_factory=dict)  # "paired" / "welch"

    @property
    def better(self) -> bool | None:
        """Whether the variant's mean is better; None when they tie, cannot be compared or the
        metric has no direction."""
        d = self.paired.mean_difference
        if self.higher_is_better is None or not math.isfinite(d) or d == 0:
            return None
        return (d > 0) == self.higher_is_better

    @property
    def beyond_noise(self) -> bool:
        """Both the paired and Welch's test below ALPHA after Holm within the family."""
        adjusted = [self.adjusted.get("paired"), self.adjusted.get("welch")]
        return all(a is not None and a.holm < ALPHA for a in adjusted)  # nan < ALPHA is False


def compare(baseline: Values, other: Values, higher_is_better: bool | None = None) -> Comparison:
    """``other`` against ``baseline`` over their finite values (pairs: the common seeds)."""
    base, values = finite(baseline), finite(other)
    return Comparison(paired_test(base, values), welch_test(base, values), higher_is_better)


def adjust_comparisons(comparisons: Mapping[Any, Comparison], family: str) -> None:
    """Fill, in place, every comparison's Holm and BH p-values within one family, separately
    for the paired and Welch's tests (an untested comparison is not counted)."""
    paired = adjust_family({k: c.paired.t_p for k, c in comparisons.items()}, family)
    welch = adjust_family({k: c.welch.p for k, c in comparisons.items()}, family)
    for key, comparison in comparisons.items():
        comparison.adjusted = {"paired": paired[key], "welch": welch[key]}


def adjust_family(pvalues: Mapping[Any, float], family: str) -> dict[Any, Adjusted]:
    """Holm and Benjamini-Hochberg adjustments within one family (nan: untested, not counted)."""
    raw = list(pvalues.values())
    size = sum(math.isfinite(p) for p in raw)
    return {
        k: Adjusted(family, size, h, b)
        for k, h, b in zip(pvalues, holm(raw), benjamini_hochberg(raw))
    }


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order: p_(i) sorted
    ascending gets max_{j<=i} min(1, (m - j + 1) p_(j)); nan stays nan, not counted in m."""
    return _adjust(pvalues, lambda p, m: np.maximum.accumulate((m - np.arange(m)) * p))


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order: p_(i)
    sorted ascending gets min_{j>=i} min(1, m p_(j) / j); nan stays nan, not counted in m."""
    return _adjust(
        pvalues, lambda p, m: np.minimum.accumulate((m * p / np.arange(1, m + 1))[::-1])[::-1]
    )


def _adjust(pvalues: Sequence[float], step) -> list[float]:
    """``step(sorted finite p-values, m)`` capped at 1, in the input order; nan stays nan."""
    p = np.asarray(pvalues, dtype=float)
    index = np.flatnonzero(np.isfinite(p))
    order = index[np.argsort(p[index], kind="stable")]
    out = np.full(p.shape, np.nan)
    out[order] = np.minimum(1.0, step(p[order], order.size))
    return out.tolist()


@dataclass(frozen=True)
class RankInterval:
    rank: float  # from the means
    low: float  # 2.5% of the bootstrap ranks
    high: float  # 97.5%


def rank_means(means: Mapping[str, float], higher_is_better: bool) -> dict[str, float]:
    """Rank 1 = best; ties share the average rank; a nan (every seed failed) ranks last."""
    labels = list(means)
    ranks = _rank_rows(np.array([[means[label] for label in labels]], float), higher_is_better)
    return {label: float(r) for label, r in zip(labels, ranks[0])}


def rank_table(
    by_group: Mapping[str, Mapping[str, Values]],
    higher_is_better: Mapping[str, bool],
    samples: int = BOOTSTRAP_SAMPLES,
) -> tuple[dict[str, dict[str, RankInterval]], dict[str, RankInterval]]:
    """Ranks per group (a leaderboard task; ``by_group[group][label]``: one value per seed) and
    the overall mean rank, each with a bootstrap interval: each draw resamples every (group,
    label)'s seeds, re-ranks every group and averages the ranks. A label with no finite value
    in a group ranks last there."""
    groups = list(by_group)
    labels = sorted({label for table in by_group.values() for label in table})
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    point: dict[str, dict[str, float]] = {}  # group -> label -> rank of its mean
    drawn: dict[str, np.ndarray] = {}  # group -> (samples, labels) bootstrap ranks
    for g in groups:
        values = [np.array(list(finite(by_group[g].get(label, {})).values())) for label in labels]
        means = [float(np.mean(v)) if v.size else math.nan for v in values]
        point[g] = rank_means(dict(zip(labels, means)), higher_is_better[g])
        draws = np.full((samples, len(labels)), np.nan)
        for column, v in enumerate(values):
            if v.size:
                draws[:, column] = v[rng.integers(0, v.size, (samples, v.size))].mean(axis=1)
        drawn[g] = _rank_rows(draws, higher_is_better[g])
    overall_draws = np.mean([drawn[g] for g in groups], axis=0) if groups else None

    def interval(value: float, draws: np.ndarray) -> RankInterval:
        low, high = np.quantile(draws, [ALPHA / 2, 1 - ALPHA / 2])
        return RankInterval(value, float(low), float(high))

    per_group = {
        g: {label: interval(point[g][label], drawn[g][:, k]) for k, label in enumerate(labels)}
        for g in groups
    }
    overall = {
        label: interval(float(np.mean([point[g][label] for g in groups])), overall_draws[:, k])
        for k, label in enumerate(labels)
    }
    return per_group, overall


def _rank_rows(means: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Ranks within every row of a (draws, labels) array: 1 = best, ties averaged, nan last."""
    worst = -np.inf if higher_is_better else np.inf
    keys = np.where(np.isfinite(means), means, worst)
    return stats.rankdata(-keys if higher_is_better else keys, method="average", axis=1)


def is_number(value: Any) -> bool:
    """A real number (a bool is not)."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)

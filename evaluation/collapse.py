"""A mode-collapse signal from periodic evaluation results.

The rule, per diversity metric (``coverage``, ``recall``, ``modes_covered`` by default, each
where present): let ``peak_t`` be the running maximum of the metric up to evaluation t, and
``drop_t = (peak_t - value_t) / peak_t`` its relative drop from that peak. Collapse is flagged
at the first evaluation t where ``drop >= threshold`` holds for ``patience`` consecutive
evaluations starting at t (a sustained drop, not one noisy point), and at least one evaluation
comes after the peak (so the drop happens while training continues). Across metrics, the
earliest flagged evaluation wins. Peaks below ``min_peak`` are ignored (a metric that never
rose cannot collapse).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from evaluation.metrics import DIVERSITY_KEYS

DIVERSITY_METRICS = DIVERSITY_KEYS  # coverage, recall, modes_covered (evaluation.metrics)


@dataclass(frozen=True)
class CollapseRule:
    threshold: float = 0.3  # relative drop from the running peak
    patience: int = 2  # consecutive evaluations the drop must last
    min_peak: float = 1e-6
    metrics: tuple[str, ...] = DIVERSITY_METRICS


@dataclass(frozen=True)
class CollapseEvent:
    metric: str
    iteration: int  # first evaluation of the sustained drop
    peak_iteration: int
    peak_value: float
    value: float
    relative_drop: float


@dataclass
class CollapseReport:
    collapsed: bool
    iteration: int | None  # earliest flagged iteration across metrics
    events: list[CollapseEvent] = field(default_factory=list)
    drops: list[dict[str, Any]] = field(default_factory=list)  # per evaluation, per metric
    rule: CollapseRule = field(default_factory=CollapseRule)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rule"]["metrics"] = list(self.rule.metrics)
        return data


def relative_drops(values: Sequence[float], min_peak: float = 1e-6) -> list[tuple[float, int]]:
    """(relative drop from the running peak, index of that peak) for each value."""
    out: list[tuple[float, int]] = []
    peak, peak_index = float("-inf"), 0
    for i, value in enumerate(values):
        if value > peak:
            peak, peak_index = value, i
        drop = (peak - value) / peak if peak > min_peak else 0.0
        out.append((drop, peak_index))
    return out


def detect_collapse(
    history: Iterable[Mapping[str, Any]], rule: CollapseRule | None = None
) -> CollapseReport:
    """Apply the module's rule to results ordered by ``iteration`` (missing metrics skipped)."""
    rule = rule or CollapseRule()
    points = sorted(history, key=lambda p: p["iteration"])
    iterations = [int(p["iteration"]) for p in points]
    drops: list[dict[str, Any]] = [{"iteration": it} for it in iterations]
    events: list[CollapseEvent] = []
    for metric in rule.metrics:
        present = [i for i, p in enumerate(points) if p.get(metric) is not None]
        if not present:
            continue
        values = [float(points[i][metric]) for i in present]
        series = relative_drops(values, rule.min_peak)
        for (drop, _), i in zip(series, present):
            drops[i][f"{metric}_drop"] = drop
        for j in range(len(series)):
            window = series[j : j + rule.patience]
            if len(window) < rule.patience or any(d < rule.threshold for d, _ in window):
                continue
            drop, peak_j = series[j]
            if peak_j >= j:  # no evaluation after the peak yet
                continue
            events.append(
                CollapseEvent(
                    metric=metric,
                    iteration=iterations[present[j]],
                    peak_iteration=iterations[present[peak_j]],
                    peak_value=values[peak_j],
                    value=values[j],
                    relative_drop=drop,
                )
            )
            break
    events.sort(key=lambda e: e.iteration)
    return CollapseReport(
        collapsed=bool(events),
        iteration=events[0].iteration if events else None,
        events=events,
        drops=drops,
        rule=rule,
    )


def collapse_score(drops_row: Mapping[str, Any]) -> float:
    """The largest relative drop in one evaluation's row (a scalar for TensorBoard)."""
    values = [v for k, v in drops_row.items() if k.endswith("_drop")]
    return max(values) if values else 0.0

"""Summaries over seeds: mean +- sample std per activation, as text, CSV and Markdown."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.report.stats import describe

# (record key, column title, scale for display, decimals)
METRICS: tuple[tuple[str, str, float, int], ...] = (
    ("modes_covered", "modes covered", 1.0, 1),
    ("high_quality_fraction", "high-quality samples (%)", 100.0, 1),
    ("reverse_kl", "reverse KL", 1.0, 3),
)


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation (ddof=1; NaN for a single value, as everywhere in
    ganzoo: one seed says nothing about the spread) of the defined values; ``n`` counts them
    (NaN values, e.g. a KL with no high-quality sample, are left out)."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        defined = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        if not defined:
            return cls(math.nan, math.nan, 0)
        described = describe(defined)
        return cls(described.mean, described.std, described.n)


@dataclass(frozen=True)
class SummaryRow:
    activation: str
    runs: int
    stats: dict[str, Stat]


def summarize(records: Iterable[Mapping[str, Any]], activations: Sequence[str]) -> list[SummaryRow]:
    """One row per activation (in the given order) over all its records."""
    by_activation: dict[str, list[Mapping[str, Any]]] = {a: [] for a in activations}
    for record in records:
        if record["activation"] in by_activation:
            by_activation[record["activation"]].append(record)
    rows = []
    for activation in activations:
        runs = by_activation[activation]
        # Stacked MNIST has no high-quality share: a missing metric is n/a.
        stats = {key: Stat.of(r.get(key) for r in runs) for key, *_ in METRICS}
        rows.append(SummaryRow(activation, len(runs), stats))
    return rows


def _cell(stat: Stat, scale: float, decimals: int, runs: int) -> str:
    if stat.n == 0:
        return "n/a"
    text = f"{stat.mean * scale:.{decimals}f}"
    if stat.n > 1:  # one value has no spread to show
        text += f" ± {stat.std * scale:.{decimals}f}"
    return text if stat.n == runs else f"{text} (n={stat.n})"


def table_cells(rows: Sequence[SummaryRow]) -> tuple[list[str], list[list[str]]]:
    """Header and formatted cells, shared by the text and Markdown output."""
    header = ["activation", "seeds"] + [title for _, title, _, _ in METRICS]
    body = [
        [row.activation, str(row.runs)]
        + [_cell(row.stats[key], scale, dec, row.runs) for key, _, scale, dec in METRICS]
        for row in rows
    ]
    return header, body


def format_text(rows: Sequence[SummaryRow]) -> str:
    header, body = table_cells(rows)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *body]]
    return "\n".join(lines)


def format_markdown(rows: Sequence[SummaryRow], title: str = "") -> str:
    header, body = table_cells(rows)
    lines = [f"{title}\n"] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[SummaryRow], path: Path) -> None:
    """Numbers unformatted: activation, runs, then <metric>_mean, <metric>_std, <metric>_n."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        columns = ["activation", "runs"]
        for key, *_ in METRICS:
            columns += [f"{key}_mean", f"{key}_std", f"{key}_n"]
        writer.writerow(columns)
        for row in rows:
            values: list[Any] = [row.activation, row.runs]
            for key, *_ in METRICS:
                s = row.stats[key]
                values += [s.mean, s.std, s.n]
            writer.writerow(values)

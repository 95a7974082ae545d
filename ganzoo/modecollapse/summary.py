"""The bench's summary from the leaderboard's board (:func:`ganzoo.leaderboard.board.build_board`):
a text table to print and a CSV of the numbers (its Markdown is the leaderboard's own). Each
metric is its mean ± sample std over seeds at the end of the budget (with one seed the std is
undefined: left out of the text, NaN in the CSV, as in the leaderboard and reports).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any


def _rows(board: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (table,) = board["per_task"].values()
    return table["metrics"], table["rows"]


def _cell(stats: dict[str, Any], seeds: int) -> str:
    if not stats["n"]:
        return "n/a"
    text = f"{stats['mean']:.4g}"
    if stats["std"] is not None:
        text += f" ± {stats['std']:.2g}"
    return text if stats["n"] == seeds else f"{text} (n={stats['n']:.0f})"


def format_text(board: dict[str, Any]) -> str:
    """One row per activation, best first (the rank of the task's ranking metric)."""
    metrics, rows = _rows(board)
    header = ["rank", "activation", "seeds"] + [m["label"] for m in metrics]
    body = [
        [f"{row['rank_final']['rank']:.1f}", row["activation"], str(row["seeds_ok"])]
        + [_cell(row["metrics"][m["name"]]["final"], row["seeds_ok"]) for m in metrics]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *body]]
    return "\n".join(lines)


def write_csv(board: dict[str, Any], path: Path) -> None:
    """activation, seeds ok and failed, rank, then <metric>_mean/_std/_n/_low/_high (the 95%
    bootstrap interval of the mean), unformatted; a missing value is nan."""
    metrics, rows = _rows(board)
    fields = ("mean", "std", "n", "low", "high")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
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

"""Writing the leaderboard from :func:`ganzoo.leaderboard.board.build_board`'s dict:
``leaderboard.json``, ``leaderboard.md`` and its figures (ranks with intervals, curves)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ganzoo.report import formatting
from ganzoo.report.figures import line_band, pyplot, save
from ganzoo.report.formatting import compact as _num
from ganzoo.report.formatting import mark, mean_std, p_value, with_interval

RANKS = ("rank_final", "rank_auc")


def write_leaderboard(board: dict[str, Any], out: Path, command: str) -> list[Path]:
    """Write the JSON, the figures and the Markdown into ``out``; returns the paths. A place
    that cannot be written is one :class:`~ganzoo.errors.WriteError`."""
    data = json.dumps({**board, "command": command}, indent=1)
    written = formatting.write_texts(out, {"leaderboard.json": data}, "leaderboard")
    ranks = plot_ranks(board, out / "leaderboard_ranks.png")
    figures = [f for f in (ranks, plot_curves(board, out / "leaderboard_curves.png")) if f]
    markdown = format_markdown(board, command, figures)
    written += formatting.write_texts(out, {"leaderboard.md": markdown}, "leaderboard")
    return written + figures


def _cell(stats: dict[str, Any]) -> str:
    """``mean ± std [low, high]``."""
    if not stats.get("n"):
        return "n/a"
    text = mean_std(stats["mean"], stats["std"], _num)
    return f"{text} [{_num(stats['low'])}, {_num(stats['high'])}]"


def _rank(interval: dict[str, Any]) -> str:
    return f"{interval['rank']:.1f} [{interval['low']:.1f}, {interval['high']:.1f}]"


def _versus(entry: dict[str, Any] | None) -> str:
    """▲ better / ▼ worse than the baseline beyond seed noise (paired and Welch t-tests both
    below 0.05 after Holm within the task), the difference's 95% interval and the p-values."""
    if entry is None:
        return "baseline"
    if entry["t_p"] is None:
        if entry["pairs"] >= 2:
            # Enough pairs, but every seed differs by the same amount: no spread to test.
            return f"{_num(entry['mean_difference'])} (same for every seed, no t-test)"
        return f"n={entry['pairs']}, no test"
    low, high = entry.get("ci95_paired") or (None, None)
    text = mark(entry["beyond_seed_noise"], entry["better"])
    text += with_interval(entry["mean_difference"], low, high, _num)
    p = f"p={p_value(entry['t_p'], 2)}"
    if entry.get("t_p_holm") is not None:
        p += f", Holm {p_value(entry['t_p_holm'], 2)}"
    if entry.get("welch_p_holm") is not None:
        p += f"; Welch Holm {p_value(entry['welch_p_holm'], 2)}"
    return f"{text} ({p})"


def format_markdown(board: dict[str, Any], command: str, figures: list[Path]) -> str:
    seeds, baseline = board["seeds"], board["baseline"]
    lines = [
        "# Activation leaderboard",
        "",
        f"ganzoo {board['ganzoo_version']}; {len(board['activations'])} activations x "
        f"{len(board['tasks'])} tasks x {len(seeds)} seeds ({', '.join(map(str, seeds))}). "
        "Regenerate with:",
        "",
        f"    {command}",
        "",
        "Ranks: 1 is best; each task is ranked on its ranking metric at the end of its budget "
        "(**final**) and on the area under its curve over the eval points (**AUC**: the mean "
        "level during training). Overall = mean rank over tasks. Brackets are 95% bootstrap "
        "intervals over seeds (seeds resampled with replacement; with few seeds they are rough). "
        + (
            f"vs {baseline}: mean paired difference over seeds [its 95% t-interval], the "
            "paired t-test's p, and Holm's adjustment of it and of Welch's unequal-variance "
            "t-test within the family (one task and view: every activation against the "
            "baseline on the ranking metric; Benjamini-Hochberg values are in "
            "leaderboard.json); ▲/▼ marks a difference beyond seed noise, better or worse: "
            "both tests below 0.05 after Holm. "
            if baseline
            else ""
        )
        + "n/a: no seed gave a value (the metric is undefined there, e.g. reverse KL when no "
        "mode is covered; or every seed failed, see 'seeds ok').",
        "",
        "## Overall",
        "",
    ]
    auc = {e["activation"]: e for e in board["overall"]["auc"]}
    task_rank = {
        t: {r["activation"]: r["rank_final"]["rank"] for r in board["per_task"][t]["rows"]}
        for t in board["tasks"]
    }
    header = ["#", "activation", "mean rank, final", "mean rank, AUC"]
    body = [
        [str(position), e["activation"], _rank(e), _rank(auc[e["activation"]])]
        + [f"{task_rank[t][e['activation']]:.1f}" for t in board["tasks"]]
        for position, e in enumerate(board["overall"]["final"], 1)
    ]
    lines += formatting.table(header + [f"{t} (final)" for t in board["tasks"]], body)
    for figure in figures:
        lines += ["", f"![{figure.stem}]({figure.name})"]
    for task_name in board["tasks"]:
        lines += _task_section(task_name, board["per_task"][task_name], baseline)
    if board["failed"]:
        escape = str.maketrans({"|": "\\|", "\n": " "})  # one table cell each
        body = [
            [f["task"], f["activation"], str(f["seed"]), str(f["error"]).translate(escape)]
            for f in board["failed"]
        ]
        lines += ["", "## Failed cells", ""]
        lines += formatting.table(["task", "activation", "seed", "error"], body)
    return "\n".join(lines) + "\n"


def _task_section(name: str, table: dict[str, Any], baseline: str | None) -> list[str]:
    primary, *others = table["metrics"]
    better = "higher" if primary["higher_is_better"] else "lower"
    points = ", ".join(str(p) for p in table["eval_points"])
    lines = [
        "",
        f"## {name} (version {table['version']})",
        "",
        f"{table['description']}. Budget {table['budget']} generator updates, scored at "
        f"{points}. Ranked by {primary['label']} ({better} is better).",
        "",
    ]
    header = ["rank (final)", "activation", f"{primary['label']}, final"]
    header += [f"{primary['label']}, AUC", "rank (AUC)"]
    header += [f"vs {baseline} (final)", f"vs {baseline} (AUC)"] if baseline else []
    header += [f"{m['label']}, final" for m in others] + ["seeds ok"]
    body = []
    for row in table["rows"]:
        metric = row["metrics"][primary["name"]]
        cells = [_rank(row["rank_final"]), row["activation"], _cell(metric["final"])]
        cells += [_cell(metric["auc"]), _rank(row["rank_auc"])]
        if baseline:
            cells += [_versus(row.get("vs_baseline_final")), _versus(row.get("vs_baseline_auc"))]
        cells += [_cell(row["metrics"][m["name"]]["final"]) for m in others]
        ok, bad = row["seeds_ok"], row["seeds_failed"]
        cells.append(f"{ok}" + (f" ({bad} failed)" if bad else ""))
        body.append(cells)
    return lines + formatting.table(header, body)


def plot_ranks(board: dict[str, Any], output: Path) -> Path | None:
    """Ranks with their 95% bootstrap intervals: overall (final and AUC) and per task."""
    if not board["activations"] or not board["tasks"]:
        return None
    plt = pyplot()
    order = [e["activation"] for e in board["overall"]["final"]]
    panels = [("overall", board["overall"]["final"], board["overall"]["auc"])]
    for task in board["tasks"]:
        rows = board["per_task"][task]["rows"]
        final, auc = ([{"activation": r["activation"], **r[k]} for r in rows] for k in RANKS)
        panels.append((task, final, auc))
    height = max(2.5, 0.32 * len(order) + 1.2)
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels) + 1.5, height), sharey=True)
    y = {label: i for i, label in enumerate(order)}
    for ax, (title, final, auc) in zip(axes, panels):
        for ranks, offset, color, name in ((final, -0.15, "C0", "final"), (auc, 0.15, "C3", "AUC")):
            for e in ranks:
                pos = y[e["activation"]] + offset
                ax.plot([e["low"], e["high"]], [pos, pos], color=color, linewidth=1.5)
                ax.plot(e["rank"], pos, "o", color=color, markersize=4, label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("rank (1 = best)", fontsize=8)
        ax.set_xlim(0.5, len(order) + 0.5)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_yticks(range(len(order)), order)
    axes[0].invert_yaxis()
    handles, names = axes[0].get_legend_handles_labels()
    unique = dict(zip(names, handles))
    fig.legend(unique.values(), unique.keys(), fontsize=8, loc="lower center", ncol=2)
    fig.suptitle("Ranks with 95% bootstrap intervals over seeds", fontsize=10)
    return save(fig, output, rect=(0, 0.08, 1, 1))


def plot_curves(board: dict[str, Any], output: Path) -> Path | None:
    """Each task's ranking metric over its eval points: mean over seeds, one line per
    activation, the baseline drawn thick and black."""
    if not board["tasks"]:
        return None
    plt = pyplot()
    tasks = board["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    colors = {label: plt.get_cmap("tab20")(i % 20) for i, label in enumerate(board["activations"])}
    for ax, task in zip(axes[0], tasks):
        table = board["per_task"][task]
        primary = table["metrics"][0]
        for row in table["rows"]:
            curve = row["metrics"][primary["name"]]["curve"]
            x = [p["iteration"] for p in curve]
            mean = [math.nan if p["mean"] is None else p["mean"] for p in curve]
            is_base = row["activation"] == board["baseline"]
            color, width = ("black", 2.2) if is_base else (colors[row["activation"]], 1.0)
            line_band(ax, x, mean, None, color, row["activation"], width, marker="o", markersize=3)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("generator updates", fontsize=8)
        ax.set_ylabel(primary["label"], fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0][-1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Ranking metric over training (mean over seeds)", fontsize=10)
    return save(fig, output, bbox_inches="tight")

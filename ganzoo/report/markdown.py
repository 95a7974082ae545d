"""``report.md``: figures, the summary table with paired tests, collapse points and runs."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

from ganzoo.errors import WriteError
from ganzoo.report import figures
from ganzoo.report.runs import RunData, load_runs
from ganzoo.report.stats import (
    LOWER_IS_BETTER,
    Group,
    SummaryRow,
    first_collapse,
    group_runs,
    summary_table,
)
from ganzoo.runs import atomic_write_text

logger = logging.getLogger(__name__)

REPORT_FILE = "report.md"


def write_report(
    paths: Sequence[str | Path],
    output: str | Path,
    group_by: Sequence[str] | None = None,
    baseline: str | None = None,
    title: str | None = None,
) -> Path:
    """Load the runs, draw the figures and write ``output/report.md``; returns its path."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise WriteError(
            f"-o {output} is a file, but a report is a directory (report.md, summary.json and "
            f"PNG figures); give a directory path, e.g. {output.with_suffix('')}_report"
        )
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the report directory {output}: {exc.strerror}") from None
    runs = load_runs(paths)
    groups = group_runs(runs, group_by)
    if baseline is not None and baseline not in [g.label for g in groups]:
        from ganzoo.errors import GanzooError

        raise GanzooError(
            f"--baseline {baseline!r} is not a group; the groups are "
            f"{', '.join(g.label for g in groups)}"
        )
    made = {
        "losses": figures.plot_losses(groups, output / "losses.png"),
        "eval": figures.plot_eval_metrics(groups, output / "eval_metrics.png"),
        "samples": figures.plot_final_samples(groups, output / "final_samples.png"),
        "params": figures.plot_activation_parameters(groups, output / "activation_params.png"),
        "activations": _activation_figure(runs, output / "activations.png"),
    }
    table = summary_table(groups, baseline)
    text = render(groups, table, made, title=title, baseline=baseline or groups[0].label)
    path = output / REPORT_FILE
    try:
        atomic_write_text(path, text)
        atomic_write_text(output / "summary.json", json.dumps(summary_json(table), indent=2) + "\n")
    except OSError as exc:
        raise WriteError(f"cannot write the report in {output}: {exc.strerror or exc}") from None
    logger.info("wrote %s", path)
    return path


def _activation_figure(runs: Sequence[RunData], output: Path) -> Path | None:
    from ganzoo.errors import GanzooError
    from ganzoo.plotting import plot_activations

    names = figures.used_activations(runs)
    if not names:
        return None
    try:
        return plot_activations(names, output)
    except WriteError:
        raise
    except GanzooError as exc:  # e.g. an activation whose plugin is not installed here
        logger.warning("no activation figure: %s", exc)
        return None


def render(
    groups: Sequence[Group],
    table: Sequence[SummaryRow],
    made: dict[str, Path | None],
    title: str | None = None,
    baseline: str = "",
) -> str:
    lines = [f"# {title or 'Activation comparison'}", ""]
    total = sum(len(g.runs) for g in groups)
    lines += [
        f"{total} runs in {len(groups)} groups: "
        + "; ".join(f"**{g.label}** (seeds {_seeds(g)})" for g in groups)
        + ".",
        "",
    ]
    unfinished = [r for g in groups for r in sorted(g.runs, key=lambda r: r.seed) if r.unfinished]
    if unfinished:
        lines += [
            f"**Unfinished: {len(unfinished)} of {total} runs stopped before their planned end** "
            + "("
            + ", ".join(f"{r.name} at {r.reached} of {r.end}" for r in unfinished)
            + "). Their values below are the last they logged, not their final ones, so they do "
            "not compare with the finished runs' yet. Resume them (`ganzoo study STUDY.yaml` or "
            "`ganzoo train --resume RUN_DIR`) and write this report again.",
            "",
        ]
    lines += [
        "## Summary",
        "",
        f"Mean ± sample std over seeds per group (n = runs with the value). The difference is "
        f"group − **{baseline}**, paired by seed: p of the paired t-test (scipy.stats.ttest_rel) "
        f"and of the Wilcoxon signed-rank test (scipy.stats.wilcoxon), two-sided.",
        "",
    ]
    lines += summary_markdown(groups, table, baseline)
    sections = [
        ("activations", "Activation functions (Fig. 1)", ""),
        (
            "losses",
            "Losses over training (Fig. 5, 6, 9, 10)",
            "Line: mean over seeds; band: ± std.",
        ),
        ("eval", "Evaluation metrics over training", "Dotted lines: collapse points flagged."),
        ("samples", "Final sample grids (Fig. 3, 4, 7, 8)", "Fixed noise, last grid of each run."),
        ("params", "Learnable activation parameters over training", "E.g. each PSF layer's alpha."),
    ]
    for key, heading, caption in sections:
        lines += [f"## {heading}", ""]
        if made.get(key) is None:
            lines += ["No data for this figure in these runs.", ""]
            continue
        lines += [f"![{heading}]({Path(made[key]).name})", ""]
        if caption:
            lines += [caption, ""]
    lines += ["## Collapse points", ""]
    flagged = [(g, r, first_collapse(r)) for g in groups for r in g.runs]
    flagged = [item for item in flagged if item[2] is not None]
    if not any(r.evals for g in groups for r in g.runs):
        lines += ["No periodic evaluation in these runs, so no collapse signal.", ""]
    elif not flagged:
        lines += ["None flagged (no sustained drop of coverage, recall or modes).", ""]
    else:
        lines += [
            "| group | seed | iteration | epoch | metric | peak → value |",
            "|---|---|---|---|---|---|",
        ]
        for group, run, iteration in flagged:
            events = run.collapses[0]["collapse"].get("events") or [{}]
            e = events[0]
            epoch = run.epoch_at(iteration)
            lines.append(
                f"| {group.label} | {run.seed} | {iteration} | {epoch or '—'} | "
                f"{e.get('metric', '?')} | "
                f"{_num(e.get('peak_value'))} → {_num(e.get('value'))} |"
            )
        lines.append("")
    lines += ["## Runs", "", "| group | seed | iterations | run directory |", "|---|---|---|---|"]
    for group in groups:
        for run in sorted(group.runs, key=lambda r: r.seed):
            done = f"{run.reached} of {run.end}" if run.unfinished else str(run.reached)
            lines.append(f"| {group.label} | {run.seed} | {done} | `{run.path}` |")
    lines.append("")
    return "\n".join(lines)


def summary_markdown(
    groups: Sequence[Group], table: Sequence[SummaryRow], baseline: str
) -> list[str]:
    others = [g.label for g in groups if g.label != baseline]
    header = ["metric", *[g.label for g in groups]]
    for other in others:
        header += [f"{other} − {baseline}", "pairs", "t-test p", "Wilcoxon p"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes: dict[str, list[str]] = {}  # each note (once) -> the metrics it applies to
    tested = 0
    for row in table:
        better = " (↓)" if _lower_is_better(row.metric) else ""
        cells = [row.metric + better]
        for group in groups:
            d = row.groups[group.label]
            if d.n == 0:
                cells.append("—")
            else:
                std = "" if math.isnan(d.std) else f" ± {_num(d.std)}"
                cells.append(f"{_num(d.mean)}{std} (n={d.n})")
        for other in others:
            test = row.tests.get(other)
            if test is None:
                cells += ["—", "0", "—", "—"]
                continue
            cells += [_num(test.mean_difference), str(test.n), _p(test.t_p), _p(test.wilcoxon_p)]
            tested += 1
            for part in filter(None, test.note.split("; ")):
                notes.setdefault(part, []).append(row.metric)
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if notes:
        # A note that holds for every test is said once; others name their metrics.
        parts = [
            note if len(metrics) == tested else f"{note} ({', '.join(dict.fromkeys(metrics))})"
            for note, metrics in notes.items()
        ]
        lines += ["Notes on the tests: " + "; ".join(parts) + ".", ""]
    return lines


def summary_json(table: Sequence[SummaryRow]) -> list[dict]:
    """The summary table as ``summary.json`` holds it (NaN written as null)."""

    def clean(value: float) -> float | None:
        return None if value is None or math.isnan(value) else value

    return [
        {
            "metric": row.metric,
            "groups": {
                k: {"n": d.n, "mean": clean(d.mean), "std": clean(d.std)}
                for k, d in row.groups.items()
            },
            "tests": {
                k: {
                    "n": t.n,
                    "mean_difference": clean(t.mean_difference),
                    "ttest_rel_p": clean(t.t_p),
                    "wilcoxon_p": clean(t.wilcoxon_p),
                    "note": t.note,
                }
                for k, t in row.tests.items()
            },
        }
        for row in table
    ]


def _seeds(group: Group) -> str:
    return ", ".join(str(seed) for seed in sorted(r.seed for r in group.runs))


def _lower_is_better(metric: str) -> bool:
    from evaluation.metrics import lower_is_better_keys  # plugins' declared directions too

    head = metric.split(" (")[0].removeprefix("final ")
    return head in LOWER_IS_BETTER or head in lower_is_better_keys()


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _p(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3g}"

"""``report.md``: figures, the summary table with paired tests, collapse points and runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from ganzoo.errors import GanzooError, WriteError
from ganzoo.report import figures, formatting
from ganzoo.report.aggregate import Adjusted, Comparison
from ganzoo.report.aggregate import finite_or_none as clean
from ganzoo.report.formatting import MISSING, difference, mean_std, number, p_value
from ganzoo.report.runs import load_runs
from ganzoo.report.stats import Group, SummaryRow, first_collapse, group_runs, summary_table

logger = logging.getLogger(__name__)

REPORT_FILE = "report.md"
FIGURE_SECTIONS = [  # (the figure's key in write_report, heading, caption)
    ("activations", "Activation functions (Fig. 1)", ""),
    ("losses", "Losses over training (Fig. 5, 6, 9, 10)", "Line: mean over seeds; band: ± std."),
    ("eval", "Evaluation metrics over training", "Dotted lines: collapse points flagged."),
    ("samples", "Final sample grids (Fig. 3, 4, 7, 8)", "Fixed noise, last grid of each run."),
    ("params", "Learnable activation parameters over training", "E.g. each PSF layer's alpha."),
]


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
    formatting.write_texts(output, {}, "report")  # the directory, or one WriteError
    runs = load_runs(paths)
    groups = group_runs(runs, group_by)
    headline = declared_headline(paths)
    if baseline is None and headline is not None:
        baseline = headline.get("baseline")
    if baseline is not None and baseline not in [g.label for g in groups]:
        raise GanzooError(
            f"--baseline {baseline!r} is not a group; the groups are "
            f"{', '.join(g.label for g in groups)}"
        )
    made = {
        "losses": figures.plot_losses(groups, output / "losses.png"),
        "eval": figures.plot_eval_metrics(groups, output / "eval_metrics.png"),
        "samples": figures.plot_final_samples(groups, output / "final_samples.png"),
        "params": figures.plot_activation_parameters(groups, output / "activation_params.png"),
        "activations": figures.plot_used_activations(runs, output / "activations.png"),
    }
    table = summary_table(groups, baseline, last_k=(headline or {}).get("k"))
    text = render(groups, table, made, title=title, baseline=baseline or groups[0].label)
    if headline is not None:
        declared = headline.get("baseline")
        if declared not in [g.label for g in groups]:
            declared_table = None  # headline_lines says the declared test cannot be run here
        elif declared != baseline:  # --baseline chose another comparison; the headline keeps its
            declared_table = summary_table(groups, declared, last_k=headline.get("k"))
        else:
            declared_table = table
        text = text.replace(
            "## Summary\n",
            "\n".join(headline_lines(headline, declared_table)) + "\n## Summary\n",
            1,
        )
    summary = json.dumps(summary_json(table), indent=2) + "\n"
    path, _ = formatting.write_texts(output, {REPORT_FILE: text, "summary.json": summary}, "report")
    logger.info("wrote %s", path)
    return path


def render(
    groups: Sequence[Group],
    table: Sequence[SummaryRow],
    made: dict[str, Path | None],
    title: str | None = None,
    baseline: str = "",
) -> str:
    total = sum(len(g.runs) for g in groups)
    listed = "; ".join(
        f"**{g.label}** (seeds {', '.join(str(s) for s in sorted(r.seed for r in g.runs))})"
        for g in groups
    )
    lines = [f"# {title or 'Activation comparison'}", ""]
    lines += [f"{total} runs in {len(groups)} groups: {listed}.", ""]
    by_seed = [(g, r) for g in groups for r in sorted(g.runs, key=lambda r: r.seed)]
    unfinished = [r for _, r in by_seed if r.unfinished]
    if unfinished:
        stopped = ", ".join(f"{r.name} at {r.reached} of {r.end}" for r in unfinished)
        lines += [
            f"**Unfinished: {len(unfinished)} of {total} runs stopped before their planned end** "
            f"({stopped}). Their values below are the last they logged, not their final ones, so "
            "they do not compare with the finished runs' yet. Resume them (`ganzoo study "
            "STUDY.yaml` or `ganzoo train --resume RUN_DIR`) and write this report again.",
            "",
        ]
    lines += [
        "## Summary",
        "",
        f"Mean ± sample std over seeds per group (n = runs with the value). The difference is "
        f"mean(group) − mean(**{baseline}**) with its 95% t-interval paired by seed. p-values, "
        f"two-sided: the paired t-test (scipy.stats.ttest_rel) and Welch's unequal-variance "
        f"t-test (scipy.stats.ttest_ind, equal_var=False; no pairing), each as raw / Holm / "
        f"Benjamini-Hochberg, the last two adjusted within a family; and the Wilcoxon "
        f"signed-rank test (raw). ▲/▼ (better/worse) marks a difference whose paired and Welch "
        f"tests both stay below 0.05 after Holm: only those are beyond noise.",
        "",
        *family_lines(table),
        *evaluation_lines(groups),
    ]
    lines += summary_markdown(groups, table, baseline)
    for key, heading, caption in FIGURE_SECTIONS:
        lines += [f"## {heading}", ""]
        if made.get(key) is None:
            lines += ["No data for this figure in these runs.", ""]
            continue
        lines += [f"![{heading}]({Path(made[key]).name})", ""]
        if caption:
            lines += [caption, ""]
    lines += ["## Collapse points", ""]
    flagged = [(g, r, i) for g in groups for r in g.runs if (i := first_collapse(r)) is not None]
    if not any(r.evals for g in groups for r in g.runs):
        lines += ["No periodic evaluation in these runs, so no collapse signal.", ""]
    elif not flagged:
        lines += ["None flagged (no sustained drop of coverage, recall or modes).", ""]
    else:
        body = []
        for group, run, iteration in flagged:
            event = (run.collapses[0]["collapse"].get("events") or [{}])[0]
            change = f"{number(event.get('peak_value'))} → {number(event.get('value'))}"
            at = [str(iteration), str(run.epoch_at(iteration) or MISSING)]
            body.append([group.label, str(run.seed), *at, event.get("metric", "?"), change])
        header = ["group", "seed", "iteration", "epoch", "metric", "peak → value"]
        lines += [*formatting.table(header, body), ""]
    body = []
    for group, run in by_seed:
        reached = f"{run.reached} of {run.end}" if run.unfinished else str(run.reached)
        body.append([group.label, str(run.seed), reached, f"`{run.path}`"])
    header = ["group", "seed", "iterations", "run directory"]
    lines += ["## Runs", "", *formatting.table(header, body), ""]
    return "\n".join(lines)


def summary_markdown(
    groups: Sequence[Group], table: Sequence[SummaryRow], baseline: str
) -> list[str]:
    others = [g.label for g in groups if g.label != baseline]
    header = ["metric", *[g.label for g in groups]]
    for other in others:
        header += [f"{other} − {baseline} [95% CI]", "pairs", "paired p / Holm / BH"]
        header += ["Welch p / Holm / BH", "Wilcoxon p"]
    body = []
    notes: dict[str, list[str]] = {}  # each note (once) -> the metrics it applies to
    tested = 0
    for row in table:
        cells = [row.metric + (" (↓)" if row.direction == "lower" else "")]
        for group in groups:
            d = row.groups[group.label]
            cells.append(f"{mean_std(d.mean, d.std)} (n={d.n})" if d.n else MISSING)
        for other in others:
            comparison = row.comparisons.get(other)
            if comparison is None:
                cells += [MISSING, "0", MISSING, MISSING, MISSING]
                continue
            test, adjusted = comparison.paired, comparison.adjusted
            cells += [
                difference(comparison),
                str(test.n),
                _p_adjusted(test.t_p, adjusted.get("paired")),
                _p_adjusted(comparison.welch.p, adjusted.get("welch")),
                p_value(test.wilcoxon_p),
            ]
            tested += 1
            for part in filter(None, test.note.split("; ")):
                notes.setdefault(part, []).append(row.metric)
        body.append(cells)
    lines = [*formatting.table(header, body), ""]
    if notes:
        # A note that holds for every test is said once; others name their metrics.
        parts = [
            note if len(metrics) == tested else f"{note} ({', '.join(dict.fromkeys(metrics))})"
            for note, metrics in notes.items()
        ]
        lines += ["Notes on the tests: " + "; ".join(parts) + ".", ""]
    return lines


def declared_headline(paths: Sequence[str | Path]) -> dict | None:
    """The ``headline`` a study declared (its study.json), when one path is such a study."""
    from ganzoo.studies.runner import read_index

    for path in paths:
        headline = (read_index(Path(path)).get("study") or {}).get("headline")
        if isinstance(headline, dict):
            return headline
    return None


def headline_lines(headline: dict, table: Sequence[SummaryRow] | None) -> list[str]:
    """The declared headline and what the runs say about it, before the full table; ``table``
    compares against the declared baseline (None: that baseline is not among the groups)."""
    metric, point, k = headline["metric"], headline["point"], headline.get("k")
    if point == "final":
        row_name, where = f"{metric} (eval final)", "the final protocol (eval/final.json)"
    else:
        row_name = f"{metric} (mean of last {k} periodic evals)"
        where = f"the mean of the last {k} periodic evaluations"
    lines = [
        "## Headline (declared in the study before it ran)",
        "",
        f"**{metric}** at {where}, against **{headline['baseline']}**.",
        "",
    ]
    if table is None:
        return lines + [
            f"Not tested here: the declared baseline {headline['baseline']!r} is not one of "
            "these runs' groups.",
            "",
        ]
    row = next((r for r in table if r.metric == row_name), None)
    if row is None:
        hint = "score each run with `ganzoo eval RUN_DIR --suite final`" if point == "final" else ""
        return lines + [f"Not measured in these runs yet{': ' + hint if hint else ''}.", ""]
    body = []
    for label, d in row.groups.items():
        cells = [label, f"{mean_std(d.mean, d.std)} ({d.n})"]
        comparison = row.comparisons.get(label)
        if comparison is None:
            body.append([*cells, "baseline", "", "", ""])
            continue
        holm = {k: p_value(a.holm) for k, a in comparison.adjusted.items()}
        paired = f"{p_value(comparison.paired.t_p)} ({holm.get('paired', MISSING)})"
        welch = f"{p_value(comparison.welch.p)} ({holm.get('welch', MISSING)})"
        noise = "yes" if comparison.beyond_noise else "no"
        body.append([*cells, difference(comparison, marked=False), paired, welch, noise])
    header = ["group", "mean ± std (n)", "− baseline [95% CI]", "paired p (Holm)"]
    header += ["Welch p (Holm)", "beyond noise"]
    return lines + formatting.table(header, body) + [""]


def family_lines(table: Sequence[SummaryRow]) -> list[str]:
    """Which tests were adjusted together (:func:`ganzoo.report.stats.comparison_family`)."""
    paired = [c.adjusted["paired"] for r in table for c in r.comparisons.values() if c.adjusted]
    families = {a.family: a.family_size for a in paired}
    if not families:
        return []
    listed = "; ".join(f"*{name}*: {size} paired tests" for name, size in families.items())
    return [
        "Families (p-values adjusted together): every quality metric at one evaluation point, "
        f"across every group compared with the baseline ({listed}; Welch's the same). Rows "
        "outside a family (training diagnostics, spreads, activation parameters, the lowest "
        "FID over training) are descriptive: their p-values are raw and never marked.",
        "",
    ]


def evaluation_lines(groups: Sequence[Group]) -> list[str]:
    """Which suite the periodic evaluations (the curves, 'last periodic eval') used."""
    from evaluation import EvaluationError
    from evaluation.suite import suite_label

    evals = [r.config.get("eval") or {} for g in groups for r in g.runs]
    names = {str(e.get("suite")) for e in evals if e.get("every")}
    if not names:
        return []
    labels = []
    for name in sorted(names):
        try:
            labels.append(suite_label(name))
        except EvaluationError:
            labels.append(name)
    return [
        f"Periodic evaluations (the curves and the *last periodic eval* rows): suite "
        f"{', '.join(labels)}. A small suite is for curves; compare its numbers only with the "
        f"same suite's, and rest claims on the final protocol (*eval final* rows) where present.",
        "",
    ]


def _p_adjusted(raw: float, adjusted: Adjusted | None) -> str:
    if adjusted is None:
        return p_value(raw)
    return f"{p_value(raw)} / {p_value(adjusted.holm)} / {p_value(adjusted.bh)}"


def summary_json(table: Sequence[SummaryRow]) -> list[dict]:
    """The summary table as ``summary.json`` holds it (NaN written as null)."""
    return [
        {
            "metric": row.metric,
            "groups": {
                k: {"n": d.n, "mean": clean(d.mean), "std": clean(d.std)}
                for k, d in row.groups.items()
            },
            "tests": {k: _comparison_json(c) for k, c in row.comparisons.items()},
        }
        for row in table
    ]


def _comparison_json(comparison: Comparison) -> dict:
    """One comparison with the baseline as summary.json holds it."""
    test, welch = comparison.paired, comparison.welch
    out: dict = {
        "n": test.n,
        "mean_difference": clean(test.mean_difference),
        "ttest_rel_p": clean(test.t_p),
        "wilcoxon_p": clean(test.wilcoxon_p),
        "note": test.note,
        "ci95_paired": [clean(test.low), clean(test.high)],
        "welch": {
            "p": clean(welch.p),
            "ci95": [clean(welch.low), clean(welch.high)],
            "df": clean(welch.df),
            "note": welch.note,
        },
    }
    if comparison.adjusted:
        first = next(iter(comparison.adjusted.values()))
        out["family"] = {"name": first.family, "size": first.family_size}
        for kind, a in comparison.adjusted.items():
            out[f"{kind}_p_holm"] = clean(a.holm)
            out[f"{kind}_p_bh"] = clean(a.bh)
        out["beyond_noise"] = comparison.beyond_noise
    return out

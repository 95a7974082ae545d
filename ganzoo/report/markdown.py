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
    headline = declared_headline(paths)
    if baseline is None and headline is not None:
        baseline = headline.get("baseline")
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
    table = summary_table(groups, baseline, last_k=(headline or {}).get("k"))
    text = render(groups, table, made, title=title, baseline=baseline or groups[0].label)
    if headline is not None:
        text = text.replace(
            "## Summary\n", "\n".join(headline_lines(headline, table)) + "## Summary\n", 1
        )
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
        header += [
            f"{other} − {baseline} [95% CI]",
            "pairs",
            "paired p / Holm / BH",
            "Welch p / Holm / BH",
            "Wilcoxon p",
        ]
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
                cells += ["—", "0", "—", "—", "—"]
                continue
            adjusted = row.adjusted.get(other, {})
            welch = row.welch.get(other)
            cells += [
                _mark(row, other) + _difference(test.mean_difference, test.low, test.high),
                str(test.n),
                _p_adjusted(test.t_p, adjusted.get("paired")),
                _p_adjusted(welch.p if welch else math.nan, adjusted.get("welch")),
                _p(test.wilcoxon_p),
            ]
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


def declared_headline(paths: Sequence[str | Path]) -> dict | None:
    """The ``headline`` a study declared (its study.json), when one path is such a study."""
    for path in paths:
        index = Path(path) / "study.json"
        if index.is_file():
            try:
                study = json.loads(index.read_text()).get("study") or {}
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(study.get("headline"), dict):
                return study["headline"]
    return None


def headline_lines(headline: dict, table: Sequence[SummaryRow]) -> list[str]:
    """The declared headline and what the runs say about it, before the full table."""
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
    row = next((r for r in table if r.metric == row_name), None)
    if row is None:
        hint = "score each run with `ganzoo eval RUN_DIR --suite final`" if point == "final" else ""
        return lines + [f"Not measured in these runs yet{': ' + hint if hint else ''}.", ""]
    lines += [
        "| group | mean ± std (n) | − baseline [95% CI] | paired p (Holm) | Welch p (Holm) "
        "| beyond noise |",
        "|---|---|---|---|---|---|",
    ]
    for label, d in row.groups.items():
        test = row.tests.get(label)
        if test is None:
            lines.append(f"| {label} | {_num(d.mean)} ± {_num(d.std)} ({d.n}) | baseline | | | |")
            continue
        adjusted = row.adjusted.get(label, {})
        paired, welch = adjusted.get("paired"), adjusted.get("welch")
        lines.append(
            f"| {label} | {_num(d.mean)} ± {_num(d.std)} ({d.n}) | "
            f"{_difference(test.mean_difference, test.low, test.high)} | "
            f"{_p(test.t_p)} ({_p(paired.holm) if paired else '—'}) | "
            f"{_p(row.welch[label].p)} ({_p(welch.holm) if welch else '—'}) | "
            f"{'yes' if row.beyond_noise(label) else 'no'} |"
        )
    return lines + [""]


def family_lines(table: Sequence[SummaryRow]) -> list[str]:
    """Which tests were adjusted together (:func:`ganzoo.report.stats.comparison_family`)."""
    families: dict[str, int] = {}
    for row in table:
        for both in row.adjusted.values():
            paired = both.get("paired")
            if paired is not None:
                families[paired.family] = paired.family_size
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

    names = {
        str((r.config.get("eval") or {}).get("suite"))
        for g in groups
        for r in g.runs
        if (r.config.get("eval") or {}).get("every")
    }
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


def _difference(value: float, low: float, high: float) -> str:
    if math.isnan(low):
        return _num(value)
    return f"{_num(value)} [{_num(low)}, {_num(high)}]"


def _mark(row: SummaryRow, other: str) -> str:
    test = row.tests[other]
    if not row.beyond_noise(other) or not test.mean_difference:
        return ""
    better = (test.mean_difference < 0) == _lower_is_better(row.metric)
    return "▲ " if better else "▼ "


def _p_adjusted(raw: float, adjusted) -> str:
    if adjusted is None:
        return _p(raw)
    return f"{_p(raw)} / {_p(adjusted.holm)} / {_p(adjusted.bh)}"


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
                    **_comparison_json(row, k, clean),
                }
                for k, t in row.tests.items()
            },
        }
        for row in table
    ]


def _comparison_json(row: SummaryRow, other: str, clean) -> dict:
    """The interval, Welch's test and the adjusted p-values of one test (summary.json)."""
    test = row.tests[other]
    out: dict = {"ci95_paired": [clean(test.low), clean(test.high)]}
    welch = row.welch.get(other)
    if welch is not None:
        out["welch"] = {
            "p": clean(welch.p),
            "ci95": [clean(welch.low), clean(welch.high)],
            "df": clean(welch.df),
            "note": welch.note,
        }
    adjusted = row.adjusted.get(other)
    if adjusted:
        first = next(iter(adjusted.values()))
        out["family"] = {"name": first.family, "size": first.family_size}
        for kind, a in adjusted.items():
            out[f"{kind}_p_holm"] = clean(a.holm)
            out[f"{kind}_p_bh"] = clean(a.bh)
        out["beyond_noise"] = row.beyond_noise(other)
    return out


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

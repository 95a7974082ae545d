"""The reports' figures (matplotlib, Agg): helpers shared with the leaderboard (:func:`pyplot`,
:func:`line_band`, :func:`save`) and the study's losses, metrics, activation parameters and
final sample grids per group."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ganzoo.errors import GanzooError, WriteError
from ganzoo.plotting import plot_activations, save_figure
from ganzoo.report.runs import RunData
from ganzoo.report.stats import EVAL_METRICS, Group, first_collapse

logger = logging.getLogger(__name__)

PALETTE = ["C0", "C3", "C2", "C1", "C4", "C5", "C6", "C7", "C8", "C9"]  # the groups' colours


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def aligned(series: Sequence[tuple[list[int], list[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Iterations (union) and a (runs, iterations) array with nan where a run has no value."""
    iterations = np.unique(np.concatenate([its for its, _ in series]))
    values = np.full((len(series), iterations.size), np.nan)
    for row, (its, vals) in enumerate(series):
        values[row, np.searchsorted(iterations, its)] = vals
    return iterations, values


def _band(ax, groups: Sequence[Group], get, colors: dict[str, str], marker: str = "") -> bool:
    """Mean line and +-1 std band (over seeds) per group; False when nothing was drawn."""
    drew = False
    for group in groups:
        series = [s for s in map(get, group.runs) if s[0]]
        if not series:
            continue
        x, values = aligned(series)
        mean = np.nanmean(values, axis=0)  # every column has a value: aligned() takes the union
        # The spread only where 2+ seeds reached the iteration (a seed still training leaves
        # one-value columns, whose sample std is undefined): no band there.
        several = np.sum(~np.isnan(values), axis=0) > 1
        std = np.zeros_like(mean)
        std[several] = np.nanstd(values[:, several], axis=0, ddof=1)
        label = f"{group.label} (n={len(series)})"
        line_band(ax, x, mean, std, colors[group.label], label, marker=marker)
        drew = True
    return drew


def line_band(ax, x, mean, std, color, label: str, linewidth: float = 1.2, **line) -> None:
    """A mean line, and its ± std band where ``std`` is given."""
    ax.plot(x, mean, color=color, label=label, linewidth=linewidth, **line)
    if std is not None:
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2)


def plot_losses(groups: Sequence[Group], output: Path) -> Path | None:
    """D and G losses per group over iterations (the paper's Fig. 5, 6, 9, 10)."""
    panels = {
        "Discriminator loss (mean ± std over seeds)": lambda r: r.series("loss_d"),
        "Generator loss (mean ± std over seeds)": lambda r: r.series("loss_g"),
    }
    return _panels(groups, panels, output, cols=2, size=(5.5, 4))


def plot_eval_metrics(groups: Sequence[Group], output: Path) -> Path | None:
    """FID, KID, coverage, modes... over training per group; collapse points as dotted lines."""
    present = [m for m in EVAL_METRICS if any(r.eval_series(m)[0] for g in groups for r in g.runs)]
    panels = {m: (lambda r, m=m: r.eval_series(m)) for m in present if m != "kid_std"}
    flagged = [(g.label, i) for g in groups for r in g.runs if (i := first_collapse(r)) is not None]

    def mark_collapses(ax, colors: dict[str, str]) -> None:
        for label, iteration in flagged:
            ax.axvline(iteration, color=colors[label], linestyle=":", linewidth=1)

    return _panels(groups, panels, output, 3, (4.5, 3.4), marker="o", decorate=mark_collapses)


def plot_activation_parameters(groups: Sequence[Group], output: Path) -> Path | None:
    """Each learnable activation scalar (each PSF layer's alpha) over training, per group."""
    keys = dict.fromkeys(k for g in groups for r in g.runs for k in r.parameter_keys())
    panels = {key: (lambda r, k=key: r.series(k)) for key in keys}

    def zero_line(ax, colors: dict[str, str]) -> None:
        ax.axhline(0, color="grey", linewidth=0.5)

    return _panels(groups, panels, output, 4, (4, 3), title_size="small", decorate=zero_line)


def _panels(
    groups: Sequence[Group],
    panels: dict[str, Callable[[RunData], tuple[list[int], list[float]]]],
    output: Path,
    cols: int,
    size: tuple[float, float],
    marker: str = "",
    title_size: str = "medium",
    decorate: Callable | None = None,
) -> Path | None:
    """One panel per series over iterations (titled by its key), every group's band in each,
    at most ``cols`` panels a row of ``size`` inches each; None when there is nothing to draw."""
    if not panels:
        return None
    plt = pyplot()
    colors = {g.label: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    cols = min(cols, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    drew = False
    for ax, (title, get) in zip(axes.flat, panels.items()):
        drew |= _band(ax, groups, get, colors, marker=marker)
        if decorate is not None:
            decorate(ax, colors)
        ax.set_title(title, fontsize=title_size)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if axes.flat[0].get_legend_handles_labels()[0]:  # no labelled line: no empty legend
        axes.flat[0].legend(fontsize="small")
    return save(fig, output, drew)


def plot_final_samples(groups: Sequence[Group], output: Path) -> Path | None:
    """The last fixed-noise grid of every run: a row per group, a column per seed (the paper's
    Fig. 3, 4, 7, 8)."""
    rows = [(g, sorted(g.runs, key=lambda r: r.seed)) for g in groups]
    cols = max(len(runs) for _, runs in rows)
    if not any(r.final_sample for _, runs in rows for r in runs):
        return None
    plt = pyplot()
    fig, axes = plt.subplots(len(rows), cols, figsize=(3.2 * cols, 3.8 * len(rows)), squeeze=False)
    for i, (group, runs) in enumerate(rows):
        for j, ax in enumerate(axes[i]):
            ax.set(xticks=[], yticks=[])
            if j >= len(runs) or runs[j].final_sample is None:
                ax.axis("off")
                continue
            run = runs[j]
            image = plt.imread(run.final_sample)
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
            ax.set_title(
                f"{group.label}, seed {run.seed}\niteration {run.samples[-1][0]}", fontsize="small"
            )
    return save(fig, output, True)


def save(fig, output: Path, drew: bool = True, rect=None, **savefig) -> Path | None:
    """Lay out, write (through :func:`ganzoo.plotting.save_figure`: a full disk leaves no
    partial file) and close ``fig``; None, and nothing written, when nothing was drawn."""
    try:
        if drew:
            fig.tight_layout(rect=rect)
            return save_figure(fig, output, dpi=110, **savefig)
        return None
    finally:
        pyplot().close(fig)


def plot_used_activations(runs: Sequence[RunData], output: Path) -> Path | None:
    """The curves of the activations the runs' networks use, per-layer lists too (Fig. 1); None
    when one cannot be built here (its plugin is not installed: a warning says so)."""
    specs = [r.config.get(s) or {} for r in runs for s in ("generator", "discriminator")]
    values = [v for s in specs for v in [s.get("activation"), *(s.get("layer_activations") or [])]]
    names = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if not names:
        return None
    try:
        return plot_activations(names, output)
    except WriteError:
        raise
    except GanzooError as exc:  # e.g. an activation whose plugin is not installed here
        logger.warning("no activation figure: %s", exc)
        return None

"""Figures of activation functions (the PSF paper's Fig. 1)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ganzoo.activations import create_activation
from ganzoo.errors import GanzooError, WriteError, describe_os_error


def activation_curves(
    names: Sequence[str],
    alphas: Sequence[float] = (-2.0, 0.0, 2.0),
    x_range: tuple[float, float] = (-5.0, 3.0),
    points: int = 400,
) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(label, x, f(x)) for each activation; one curve per alpha for those with an ``alpha``.

    A non-finite alpha or x bound, or a curve with no finite point, is refused (it would draw
    nothing without a word).
    """
    if not all(math.isfinite(v) for v in x_range) or x_range[0] >= x_range[1]:
        raise GanzooError(
            f"the x range (--xmin, --xmax) must be finite and increasing, e.g. -5 3; "
            f"got {x_range[0]:g}, {x_range[1]:g}"
        )
    bad = [v for v in alphas if not math.isfinite(v)]
    if bad:
        raise GanzooError(
            f"alpha values (--alpha) must be finite numbers, e.g. -2 0 2; got "
            f"{', '.join(f'{v:g}' for v in bad)}"
        )
    x = torch.linspace(x_range[0], x_range[1], points)
    curves = []
    for name in names:
        module = create_activation(name)
        alpha = dict(module.named_parameters()).get("alpha")
        with torch.no_grad():
            if alpha is None:
                curves.append((name, x, module(x)))
                continue
            for value in alphas:
                alpha.fill_(value)
                curves.append((f"{name} (alpha={value:g})", x, module(x)))
    for label, _, y in curves:
        if not torch.isfinite(y).any():
            raise GanzooError(
                f"{label} has no finite value on x in [{x_range[0]:g}, {x_range[1]:g}]; "
                f"nothing to draw. Choose another alpha or x range."
            )
    return curves


def plot_activations(
    names: Sequence[str],
    output: Path,
    alphas: Sequence[float] = (-2.0, 0.0, 2.0),
    x_range: tuple[float, float] = (-5.0, 3.0),
) -> Path:
    """Draw the activations into a PNG at ``output`` and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = activation_curves(names, alphas, x_range)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, x, y in curves:
        ax.plot(x.numpy(), y.numpy(), label=label)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("Activation functions")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        return save_figure(fig, output, dpi=120)
    finally:
        plt.close(fig)


def save_figure(fig: Any, output: str | os.PathLike, dpi: int = 120, **savefig: Any) -> Path:
    """Write a matplotlib figure to ``output`` in the format its suffix names, through a
    temporary file and a rename: a full disk or a read-only place is a :class:`WriteError` and
    leaves no partial (0-byte) image behind; a suffix matplotlib cannot write is refused first.
    ``savefig``: more of ``Figure.savefig``'s options (e.g. ``bbox_inches="tight"``)."""
    output = Path(output)
    kind = output.suffix.lower().lstrip(".")
    supported = fig.canvas.get_supported_filetypes()
    if kind not in supported:
        raise WriteError(
            f"cannot write a figure to {output}: its name must end in an image format "
            f"({', '.join('.' + k for k in sorted(supported))}), e.g. {output.with_suffix('.png')}"
        )
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, dpi=dpi, format=kind, **savefig)
        os.replace(tmp, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise WriteError(
            f"cannot write {output}: {describe_os_error(output, exc)}; free disk space or "
            f"choose a writable path"
        ) from None
    return output

"""Figures of activation functions (the PSF paper's Fig. 1)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from ganzoo.activations import create_activation
from ganzoo.errors import GanzooError


def activation_curves(
    names: Sequence[str],
    alphas: Sequence[float] = (-2.0, 0.0, 2.0),
    x_range: tuple[float, float] = (-5.0, 3.0),
    points: int = 400,
) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(label, x, f(x)) for each activation; one curve per alpha for those with an ``alpha``."""
    if x_range[0] >= x_range[1]:
        raise GanzooError(f"the x range must be increasing, got {x_range}")
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
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return output

"""``ganzoo activations``: list the registered activations, or plot them."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.activations import ACTIVATIONS, describe_activations
from ganzoo.plotting import plot_activations


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "activations",
        help="list registered activations, or plot them",
        description="List every registered activation (built-in and plugin), or plot some.",
    )
    parser.set_defaults(func=list_command)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    plot = actions.add_parser(
        "plot",
        help="draw activation functions over x in [-5, 3]",
        description="Draw activation functions, like Fig. 1 of the PSF paper. Activations with "
        "a learnable parameter named 'alpha' (such as psf) get one curve per --alpha value.",
    )
    plot.add_argument("names", nargs="+", metavar="NAME", help="registered activation names")
    plot.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("activations.png"),
        help="image file to write; its suffix picks the format (default: activations.png)",
    )
    plot.add_argument(
        "--alpha",
        type=float,
        nargs="+",
        default=[-2.0, 0.0, 2.0],
        help="finite alpha values to draw (default: -2 0 2)",
    )
    plot.add_argument("--xmin", type=float, default=-5.0, help="left end of x (default: -5)")
    plot.add_argument("--xmax", type=float, default=3.0, help="right end of x (default: 3)")
    plot.set_defaults(func=plot_command)


def list_command(args: argparse.Namespace) -> int:
    rows = [("name", "from", "learnable parameters (default build)")]
    for info in describe_activations():
        if info.error:
            params = f"UNAVAILABLE: {info.error}"
        elif info.parameters:
            params = ", ".join(f"{n} {list(s)}" for n, s in info.parameters.items())
        else:
            params = "none"
        rows.append((info.name, info.origin, params))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, origin, params in rows:
        print(f"{name:<{widths[0]}}  {origin:<{widths[1]}}  {params}")
    for message in ACTIVATIONS.refused():
        print(f"refused: {message}")
    return 0


def plot_command(args: argparse.Namespace) -> int:
    path = plot_activations(
        args.names, args.output, alphas=args.alpha, x_range=(args.xmin, args.xmax)
    )
    print(path)
    return 0

"""``ganzoo metrics``: list the registered metrics (built-in and plugin) with their origin,
what they need, and the numbers they give with which way each is better."""

from __future__ import annotations

import argparse

from evaluation.metrics import INPUTS, METRICS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="list registered evaluation metrics, their inputs and directions",
        description="List every registered metric (suites name them in `metrics:`), built-in "
        "and plugin (entry-point group ganzoo.metrics): where it comes from, what it needs, and "
        "each number it gives with its direction (lower/higher is better; the first is its "
        "headline).",
    )
    parser.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    rows = [("name", "from", "inputs", "gives (direction)")]
    descriptions = []
    for name in METRICS.names():
        origin = METRICS.origin(name)
        try:
            metric = METRICS.get(name)
        except Exception as exc:  # a broken plugin must not hide the rest of the list
            rows.append((name, origin, "-", f"UNAVAILABLE: {exc}"))
            continue
        gives = ", ".join(f"{key.name} ({key.direction or '-'})" for key in metric.keys)
        rows.append((name, origin, metric.inputs, gives))
        if metric.description:
            descriptions.append(f"  {name}: {metric.description}")
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    print("\ninputs:")
    for inputs, meaning in INPUTS.items():
        print(f"  {inputs}: {meaning}")
    if descriptions:
        print("\nwhat they measure:")
        print("\n".join(descriptions))
    for message in METRICS.refused():
        print(f"refused: {message}")
    return 0

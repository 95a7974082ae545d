"""``ganzoo losses``: list the registered GAN losses with their origin and what they log."""

from __future__ import annotations

import argparse

from ganzoo.losses import LOSSES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "losses",
        help="list registered GAN losses",
        description="List every registered GAN loss (train.loss), built-in and plugin, with "
        "what it logs. R1 on real images is added to any of them with train.r1_gamma.",
    )
    parser.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    rows = [("name", "from", "logs", "description")]
    for name in LOSSES.names():
        origin = LOSSES.origin(name)
        try:
            loss = LOSSES.get(name)()
            rows.append((name, origin, ", ".join(loss.stat_names), loss.describe()))
        except Exception as exc:  # a broken plugin must not hide the rest of the list
            rows.append((name, origin, "-", f"UNAVAILABLE: {exc}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    for message in LOSSES.refused():
        print(f"refused: {message}")
    return 0
